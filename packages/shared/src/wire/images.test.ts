import { describe, expect, it } from "vitest";
import { parseModelCatalog } from "../catalog/load.js";
import { ServiceError } from "../errors/service-error.js";
import { parseImageGenerationRequest } from "./images.js";

const catalog = parseModelCatalog(
  `
models:
  - id: sdxl
    sizes: ["512x512", "1024x1024"]
    max_n: 4
    max_prompt_length: 100
    parameters:
      seed: { type: integer, minimum: 0 }
      style: { type: string, enum: [vivid, natural] }
      guidance_scale: { type: number, minimum: 0, maximum: 30 }
      tiling: { type: boolean }
    upstreams: [{ name: u, protocol: openai, base_url: "http://h:1" }]
`,
  {},
);

function failureOf(body: unknown): ServiceError {
  try {
    parseImageGenerationRequest(body, catalog);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error("expected the request to be refused");
}

describe("POST /v1/images/generations body", () => {
  it("applies the contract's defaults: n=1, size 1024x1024, response_format url", () => {
    const { request } = parseImageGenerationRequest({ model: "sdxl", prompt: "a red fox" }, catalog);
    expect(request).toMatchObject({ n: 1, size: "1024x1024", responseFormat: "url", parameters: {} });
  });

  it("treats null as 'use the default', as OpenAI's SDKs send it", () => {
    const { request } = parseImageGenerationRequest({ model: "sdxl", prompt: "p", n: null, size: null, response_format: null }, catalog);
    expect(request).toMatchObject({ n: 1, size: "1024x1024", responseFormat: "url" });
  });

  it("passes declared model parameters through after checking their types", () => {
    const { request } = parseImageGenerationRequest(
      { model: "sdxl", prompt: "p", seed: 42, style: "vivid", guidance_scale: 7.5, tiling: true },
      catalog,
    );
    expect(request.parameters).toEqual({ seed: 42, style: "vivid", guidance_scale: 7.5, tiling: true });
  });

  it.each([
    ["model missing", { prompt: "p" }, 400, "model"],
    ["prompt missing", { model: "sdxl" }, 400, "prompt"],
    ["prompt empty", { model: "sdxl", prompt: "" }, 400, "prompt"],
    ["prompt not a string", { model: "sdxl", prompt: 7 }, 400, "prompt"],
    ["prompt over the model's limit", { model: "sdxl", prompt: "x".repeat(101) }, 400, "prompt"],
    ["n a string", { model: "sdxl", prompt: "p", n: "2" }, 400, "n"],
    ["n fractional", { model: "sdxl", prompt: "p", n: 1.5 }, 400, "n"],
    ["n zero", { model: "sdxl", prompt: "p", n: 0 }, 400, "n"],
    ["n above the model's cap", { model: "sdxl", prompt: "p", n: 5 }, 400, "n"],
    ["size unsupported by the model", { model: "sdxl", prompt: "p", size: "256x256" }, 400, "size"],
    ["size not a string", { model: "sdxl", prompt: "p", size: 1024 }, 400, "size"],
    ["unknown response_format", { model: "sdxl", prompt: "p", response_format: "png" }, 400, "response_format"],
    ["undeclared parameter", { model: "sdxl", prompt: "p", steps: 30 }, 400, "steps"],
    ["declared parameter of the wrong type", { model: "sdxl", prompt: "p", seed: "42" }, 400, "seed"],
    ["declared parameter out of range", { model: "sdxl", prompt: "p", guidance_scale: 31 }, 400, "guidance_scale"],
    ["integer parameter given a fraction", { model: "sdxl", prompt: "p", seed: 1.5 }, 400, "seed"],
    ["value outside the parameter's enum", { model: "sdxl", prompt: "p", style: "noir" }, 400, "style"],
    ["unknown model", { model: "dall-e-9", prompt: "p" }, 404, "model"],
    ["a field named __proto__", JSON.parse('{"model": "sdxl", "prompt": "p", "__proto__": {"seed": 1}}'), 400, "__proto__"],
    ["a field named constructor", { model: "sdxl", prompt: "p", constructor: 1 }, 400, "constructor"],
  ])("refuses %s, naming the field", (_name, body, status, param) => {
    const error = failureOf(body);
    expect(error.status).toBe(status);
    expect(error.param).toBe(param);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it.each([[null], [[1, 2]], ["text"], [42]])("refuses a body that is not a JSON object (%j)", (body) => {
    const error = failureOf(body);
    expect(error.code).toBe("invalid_payload");
    expect(error.param).toBeNull();
  });

  it("reports the unknown model with model_not_found", () => {
    expect(failureOf({ model: "nope", prompt: "p" }).code).toBe("model_not_found");
  });

  it("counts the prompt's length in characters (code points), not UTF-16 units", () => {
    const emoji = "\u{1F98A}";
    expect(parseImageGenerationRequest({ model: "sdxl", prompt: emoji.repeat(100) }, catalog).request.prompt).toHaveLength(200);
    expect(failureOf({ model: "sdxl", prompt: emoji.repeat(101) }).param).toBe("prompt");
  });

  it("says 'an integer' in the message of an integer parameter", () => {
    expect(failureOf({ model: "sdxl", prompt: "p", seed: "x" }).message).toBe("seed must be an integer");
  });

  // Names every plain object inherits: looking them up on the card must not find Object.prototype.
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "propertyIsEnumerable", "__defineGetter__"])(
    "refuses a body key named like an Object.prototype member (%s) as an undeclared parameter",
    (name) => {
      const body = JSON.parse(`{"model":"sdxl","prompt":"p",${JSON.stringify(name)}:1}`) as unknown;
      const error = failureOf(body);
      expect(error.code).toBe("invalid_payload");
      expect(error.param).toBe(name);
    },
  );
});
