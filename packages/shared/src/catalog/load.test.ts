import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CatalogError, parseModelCatalog } from "./load.js";

const minimal = (extra = "") => `
models:
  - id: m1
    sizes: ["512x512", "1024x1024"]
    upstreams:
      - name: gpu-a
        protocol: openai
        base_url: \${GPU_URL:-http://127.0.0.1:9100}
${extra}`;

describe("model library file", () => {
  it("fills documented defaults", () => {
    const catalog = parseModelCatalog(minimal(), {});
    const card = catalog.get("m1")!;
    expect(card.default_size).toBe("1024x1024");
    expect(card.max_n).toBe(1);
    expect(card.parameters).toEqual({});
    expect(card.upstreams[0]).toMatchObject({ base_url: "http://127.0.0.1:9100", max_concurrency: 4, max_attempts: 3 });
  });

  it("takes upstream settings from the environment", () => {
    const card = parseModelCatalog(minimal(), { GPU_URL: "http://gpu-7:8000" }).get("m1")!;
    expect(card.upstreams[0]!.base_url).toBe("http://gpu-7:8000");
  });

  it("accepts JSON as well as YAML", () => {
    const json = JSON.stringify({
      models: [{ id: "j", sizes: ["64x64"], upstreams: [{ name: "u", protocol: "openai", base_url: "http://h:1" }] }],
    });
    expect(parseModelCatalog(json, {}).get("j")?.default_size).toBe("64x64");
  });

  it.each([
    ["a misspelled field", minimal().replace("sizes:", "size:"), /sizes/],
    ["an unknown protocol", minimal().replace("protocol: openai", "protocol: carrier-pigeon"), /protocol/],
    ["a malformed size", minimal().replace('"512x512"', '"big"'), /1024x1024/],
    ["a missing variable", minimal().replace(":-http://127.0.0.1:9100", ""), /GPU_URL is not set/],
    ["a default size outside sizes", minimal().replace("    upstreams:", '    default_size: "64x64"\n    upstreams:'), /default_size/],
    ["broken YAML", "models: [", /not valid YAML/],
  ])("rejects %s with a message naming the problem", (_name, text, message) => {
    expect(() => parseModelCatalog(text, {}, "models.yaml")).toThrow(CatalogError);
    expect(() => parseModelCatalog(text, {}, "models.yaml")).toThrow(message);
  });

  it("rejects duplicate model ids", () => {
    const text = minimal() + minimal().replace("models:\n", "");
    expect(() => parseModelCatalog(text, {})).toThrow(/duplicate model id 'm1'/);
  });
});

describe("upstream pools in the model library", () => {
  const pool = `
models:
  - id: m1
    sizes: ["512x512"]
    upstreams:
      - { name: a, protocol: openai, base_url: "http://a:1" }
      - name: b
        protocol: a1111
        base_url: "http://b:1"
        weight: 2
        max_images_per_request: 2
        circuit_breaker: { consecutive_failures: 3 }
        health_check: { interval_ms: 1000 }
`;

  it("fills weight, breaker and probe defaults per upstream", () => {
    const [a, b] = parseModelCatalog(pool, {}).get("m1")!.upstreams;
    expect(a).toMatchObject({ weight: 1, circuit_breaker: { consecutive_failures: 5, cooldown_ms: 10_000 }, health_check: { enabled: true } });
    expect(a!.max_images_per_request).toBeUndefined();
    expect(b).toMatchObject({ weight: 2, max_images_per_request: 2, circuit_breaker: { consecutive_failures: 3, failure_rate: 0.5 } });
    expect(b!.health_check).toMatchObject({ interval_ms: 1000, timeout_ms: 2000 });
  });

  it("requires a workflow for comfyui and reads it from a file next to the library", () => {
    const dir = mkdtempSync(join(tmpdir(), "catalog-"));
    writeFileSync(join(dir, "flow.json"), JSON.stringify({ "6": { class_type: "CLIPTextEncode", inputs: { text: "" } } }));
    const comfy = (workflow: string) =>
      `models:\n  - id: c\n    sizes: ["512x512"]\n    upstreams:\n      - { name: c, protocol: comfyui, base_url: "http://c:1"${workflow} }\n`;
    expect(() => parseModelCatalog(comfy(""), {}, "models.yaml", dir)).toThrow(/comfyui needs a workflow/);
    const card = parseModelCatalog(comfy(', workflow: { template: flow.json, inputs: { prompt: "6.text" } }'), {}, "models.yaml", dir).get("c")!;
    expect(card.upstreams[0]!.workflow!.template).toEqual({ "6": { class_type: "CLIPTextEncode", inputs: { text: "" } } });
    expect(() => parseModelCatalog(comfy(', workflow: { template: missing.json, inputs: { prompt: "6.text" } }'), {}, "models.yaml", dir)).toThrow(
      /cannot read workflow missing.json/,
    );
    expect(() => parseModelCatalog(comfy(', workflow: { template: flow.json, inputs: { prompt: "text" } }'), {}, "models.yaml", dir)).toThrow(
      /node id/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects the same upstream listed twice in one model", () => {
    expect(() => parseModelCatalog(pool.replace("name: b", "name: a"), {})).toThrow(/listed twice/);
  });
});

describe("model capabilities", () => {
  const card = (yaml: string) => parseModelCatalog(`models:\n${yaml}`, {}).models[0]!;

  it("derives defaults from the upstreams' protocols", () => {
    const openai = card(`  - { id: a, sizes: ["512x512"], upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }] }`);
    expect(openai.capabilities).toMatchObject({ generations: true, edits: undefined, transparentBackground: true, style: true });
    const cog = card(`  - { id: b, sizes: ["512x512"], upstreams: [{ name: c, protocol: cog, base_url: "http://h:1" }] }`);
    expect(cog.capabilities).toMatchObject({ transparentBackground: false, qualities: [], style: false });
  });

  it("opts a model into edits with its input limits", () => {
    const edits = card(`  - { id: a, sizes: ["512x512"], capabilities: { edits: { max_input_images: 4, mask: true } }, upstreams: [{ name: o, protocol: openai, base_url: "http://h:1" }] }`);
    expect(edits.capabilities.edits).toEqual({ maxInputImages: 4, mask: true });
  });

  it.each([
    ["more input images than the protocol carries", `{ edits: { max_input_images: 2 } }`, "a1111", "max_input_images"],
    ["transparency the protocol cannot carry", `{ transparent_background: true }`, "cog", "transparent_background"],
    ["a quality the protocol cannot carry", `{ qualities: [hd] }`, "a1111", "qualities"],
  ])("refuses a card claiming %s", (_name, capabilities, protocol, field) => {
    expect(() => card(`  - { id: a, sizes: ["512x512"], capabilities: ${capabilities}, upstreams: [{ name: u, protocol: ${protocol}, base_url: "http://h:1" }] }`)).toThrow(field);
  });

  it("refuses ComfyUI edits whose workflow has no image input mapped", () => {
    expect(() =>
      card(`  - { id: a, sizes: ["512x512"], capabilities: { edits: {} }, upstreams: [{ name: u, protocol: comfyui, base_url: "http://h:1", workflow: { template: {}, inputs: { prompt: "6.text" } } }] }`),
    ).toThrow("image");
  });
});
