import { describe, expect, it } from "vitest";
import { parseModelCatalog } from "../catalog/load.js";
import { ServiceError } from "../errors/service-error.js";
import { parseImageEditRequest } from "./image-edits.js";
import { parseImageGenerationRequest } from "./images.js";

const catalog = parseModelCatalog(
  `
models:
  - id: editor
    sizes: ["512x512", "1024x1024"]
    max_n: 4
    parameters:
      strength: { type: number, minimum: 0, maximum: 1 }
      tiling: { type: boolean }
    capabilities: { edits: { max_input_images: 4, mask: true } }
    upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }]
  - id: no-mask
    sizes: ["512x512"]
    capabilities: { edits: {} }
    upstreams: [{ name: a, protocol: a1111, base_url: "http://h:2" }]
  - id: painter
    sizes: ["512x512"]
    upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }]
  - id: edit-only
    sizes: ["512x512"]
    capabilities: { generations: false, edits: {} }
    upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }]
`,
  {},
);
const one = { imageCount: 1, hasMask: false };

function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("POST /v1/images/edits fields (multipart text)", () => {
  it("reads numbers and booleans the SDKs send as text, for OpenAI's fields and the card's own", () => {
    const { request, sizeIsAuto } = parseImageEditRequest(
      { model: "editor", prompt: "p", n: "3", output_format: "jpeg", output_compression: "40", strength: "0.35", tiling: "true", input_fidelity: "high", stream: "false" },
      { imageCount: 2, hasMask: true },
      catalog,
    );
    expect(request).toMatchObject({ n: 3, size: "1024x1024", parameters: { strength: 0.35, tiling: true } });
    expect(request.options).toMatchObject({ outputFormat: "jpeg", outputCompression: 40, inputFidelity: "high" });
    expect(sizeIsAuto).toBe(true);
  });

  it.each([
    ["a model that cannot edit", { model: "painter", prompt: "p" }, one, "model"],
    ["more images than the model takes", { model: "editor", prompt: "p" }, { imageCount: 5, hasMask: false }, "image"],
    ["a mask the model cannot take", { model: "no-mask", prompt: "p" }, { imageCount: 1, hasMask: true }, "mask"],
    ["n that is not a number", { model: "editor", prompt: "p", n: "two" }, one, "n"],
    ["a parameter of the wrong type", { model: "editor", prompt: "p", strength: "strong" }, one, "strength"],
    ["a field named __proto__", { model: "editor", prompt: "p", ["__proto__"]: "x" }, one, "__proto__"],
    ["a missing prompt", { model: "editor" }, one, "prompt"],
  ])("refuses %s with 400 naming the field", (_name, fields, uploads, param) => {
    const error = refusal(() => parseImageEditRequest(Object.fromEntries(Object.entries(fields)), uploads, catalog));
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });

  it("names the model and the reason when it cannot edit", () => {
    expect(refusal(() => parseImageEditRequest({ model: "painter", prompt: "p" }, one, catalog)).message).toMatch(/'painter' cannot edit/);
  });

  it("refuses an unknown model as model_not_found", () => {
    expect(refusal(() => parseImageEditRequest({ model: "nope", prompt: "p" }, one, catalog)).code).toBe("model_not_found");
  });

  it("keeps an edit-only model out of generations", () => {
    expect(refusal(() => parseImageGenerationRequest({ model: "edit-only", prompt: "p" }, catalog)).param).toBe("model");
  });
});
