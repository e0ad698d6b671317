import { parseModelCatalog } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import { validateInputLine } from "./validate-input.js";

const catalog = parseModelCatalog(
  `models: [{ id: m, sizes: ["64x64"], max_n: 2, upstreams: [{ name: u, protocol: openai, base_url: "http://h:1" }] }]`,
  {},
);
const line = (custom_id: string, body: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id, method: "POST", url: "/v1/images/generations", body, ...extra });

function check(text: string, seen = new Set<string>()) {
  return validateInputLine(text, 7, catalog, seen);
}

describe("batch input lines", () => {
  it("accepts a request the endpoint would accept, with its defaults applied", () => {
    const checked = check(line("a", { model: "m", prompt: "p", size: "64x64" }));
    expect(checked).toMatchObject({ ok: true, customId: "a", request: { n: 1, responseFormat: "url", size: "64x64" } });
  });

  it.each([
    ["not JSON", "{oops", "invalid_json_line", null],
    ["no custom_id", JSON.stringify({ method: "POST", url: "/v1/images/generations", body: {} }), "invalid_request", "custom_id"],
    ["another method", line("a", {}, { method: "GET" }), "invalid_request", "method"],
    ["another endpoint", line("a", { model: "m", prompt: "p" }, { url: "/v1/embeddings" }), "invalid_url", "url"],
    ["an unknown model", line("a", { model: "x", prompt: "p" }), "model_not_found", "body.model"],
  ])("reports %s with OpenAI's code, the parameter and the line number", (_name, text, code, param) => {
    const checked = check(text);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toMatchObject({ code, param, line: 7 });
  });

  it.each([
    ["n above the model's cap", { model: "m", prompt: "p", n: 3 }, "n"],
    ["no prompt", { model: "m" }, "prompt"],
    ["an unsupported size", { model: "m", prompt: "p", size: "3x3" }, "size"],
    ["an undeclared parameter", { model: "m", prompt: "p", steps: 30 }, "steps"],
    ["stream, which a batch cannot do", { model: "m", prompt: "p", stream: true }, "stream"],
    ["an edit's own field", { model: "m", prompt: "p", input_fidelity: "high" }, "input_fidelity"],
  ])("refuses only that line when its body has %s, as the endpoint would (400)", (_name, body, param) => {
    expect(check(line("a", body))).toMatchObject({ ok: true, customId: "a", refusal: { code: "invalid_payload", param } });
  });

  it("reports a custom_id used twice", () => {
    const seen = new Set<string>();
    expect(check(line("dup", { model: "m", prompt: "p" }), seen).ok).toBe(true);
    const again = check(line("dup", { model: "m", prompt: "q" }), seen);
    expect(again).toMatchObject({ ok: false, error: { code: "duplicate_custom_id" } });
  });

  it.each(["__proto__", "constructor", "toString"])("checks a request body key named %s instead of dropping it or crashing", (name) => {
    const text = `{"custom_id":"a","method":"POST","url":"/v1/images/generations","body":{"model":"m","prompt":"p",${JSON.stringify(name)}:1}}`;
    expect(check(text)).toMatchObject({ ok: true, customId: "a", refusal: { code: "invalid_payload", param: name } });
  });
});
