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
