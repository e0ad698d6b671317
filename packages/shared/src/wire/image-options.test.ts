import { describe, expect, it } from "vitest";
import { parseModelCatalog } from "../catalog/load.js";
import { ServiceError } from "../errors/service-error.js";
import { parseImageGenerationRequest } from "./images.js";

const catalog = parseModelCatalog(
  `
models:
  - id: gateway
    sizes: ["512x512", "1024x1024"]
    upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }]
  - id: webui
    sizes: ["512x512"]
    upstreams: [{ name: a, protocol: a1111, base_url: "http://h:2" }]
  - id: mixed
    sizes: ["512x512"]
    upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }, { name: c, protocol: cog, base_url: "http://h:3" }]
  - id: styled-cog
    sizes: ["512x512"]
    parameters:
      style: { type: string, enum: [anime, photo] }
    upstreams: [{ name: c, protocol: cog, base_url: "http://h:3" }]
`,
  {},
);

const parse = (body: Record<string, unknown>) => parseImageGenerationRequest({ prompt: "p", ...body }, catalog).request;

function refusal(body: Record<string, unknown>): ServiceError {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("OpenAI's standard fields", () => {
  it("defaults to PNG and the model's size, with 'auto' meaning the model's default", () => {
    expect(parse({ model: "gateway" }).options).toEqual({ outputFormat: "png" });
    expect(parse({ model: "gateway", size: "auto" }).size).toBe("1024x1024");
    expect(parse({ model: "webui", size: "auto", quality: "auto" }).size).toBe("512x512");
  });

  it("carries every field an OpenAI-compatible upstream can honour, under our names", () => {
    const request = parse({
      model: "gateway",
      output_format: "webp",
      output_compression: 60,
      background: "transparent",
      quality: "high",
      style: "natural",
      moderation: "low",
      user: "u-1",
      stream: false,
      partial_images: 0,
    });
    expect(request.options).toEqual({
      outputFormat: "webp",
      outputCompression: 60,
      background: "transparent",
      quality: "high",
      style: "natural",
      moderation: "low",
      user: "u-1",
      safetyIdentifier: "u-1",
    });
    expect(request.parameters).toEqual({});
  });

  it("takes stream: true with partial_images for any model (partials come where its upstream has previews)", () => {
    expect(parse({ model: "mixed", stream: true, partial_images: 2 }).options.partialImages).toBe(2);
    expect(parse({ model: "webui", stream: true }).options.partialImages).toBe(0);
    expect(parse({ model: "webui", stream: false }).options.partialImages).toBeUndefined();
  });

  it("prefers safety_identifier over the deprecated user, as OpenAI does", () => {
    expect(parse({ model: "gateway", user: "u", safety_identifier: "s" }).options.safetyIdentifier).toBe("s");
    expect(parse({ model: "gateway", user: "u", safety_identifier: "" }).options.safetyIdentifier).toBe("u");
  });

  it("lets a card's own parameter of the same name win", () => {
    const request = parse({ model: "styled-cog", style: "anime" });
    expect(request.parameters).toEqual({ style: "anime" });
    expect(request.options.style).toBeUndefined();
  });

  it("maps quality for A1111 (a step count), so it is accepted there", () => {
    expect(parse({ model: "webui", quality: "low" }).options.quality).toBe("low");
  });

  it.each([
    ["an unknown output_format", { model: "gateway", output_format: "gif" }, "output_format"],
    ["output_compression out of range", { model: "gateway", output_format: "jpeg", output_compression: 101 }, "output_compression"],
    ["output_compression on PNG", { model: "gateway", output_compression: 50 }, "output_compression"],
    ["a transparent JPEG", { model: "gateway", output_format: "jpeg", background: "transparent" }, "background"],
    ["transparency a model cannot draw", { model: "webui", background: "transparent" }, "background"],
    ["transparency only some upstreams can draw", { model: "mixed", output_format: "webp", background: "transparent" }, "background"],
    ["a quality the model does not offer", { model: "webui", quality: "hd" }, "quality"],
    ["quality on a model without levels", { model: "mixed", quality: "high" }, "quality"],
    ["style on a model without styles", { model: "webui", style: "vivid" }, "style"],
    ["an unknown moderation", { model: "gateway", moderation: "none" }, "moderation"],
    ["input_fidelity on a generation", { model: "gateway", input_fidelity: "high" }, "input_fidelity"],
    ["partial_images without stream", { model: "gateway", partial_images: 2 }, "partial_images"],
    ["a non-boolean stream", { model: "gateway", stream: "yes" }, "stream"],
    ["more than 3 partial images", { model: "gateway", stream: true, partial_images: 4 }, "partial_images"],
    ["stream with n above 1", { model: "gateway", stream: true, n: 2 }, "n"],
  ])("refuses %s with 400 naming the field", (_name, body, param) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });

  it("names the model when it cannot do what was asked", () => {
    expect(refusal({ model: "webui", background: "transparent" }).message).toContain("'webui'");
    expect(refusal({ model: "webui", quality: "hd" }).message).toContain("low, medium, high");
  });
});
