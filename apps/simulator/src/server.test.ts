import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { SimulatorOptionsInput } from "./config.js";
import type { Simulator } from "./server.js";
import { useSimulators } from "./test-harness.js";

const startSimulator = useSimulators();
let simulator: Simulator | undefined;
async function start(options: SimulatorOptionsInput = {}): Promise<string> {
  const started = await startSimulator(options);
  simulator = started.sim;
  return started.url;
}

function generate(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function b64Images(url: string, body: object): Promise<Buffer[]> {
  const res = await generate(url, { model: "sim", response_format: "b64_json", ...body });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { data: { b64_json: string }[] };
  return json.data.map((item) => Buffer.from(item.b64_json, "base64"));
}

describe("POST /v1/images/generations", () => {
  it("returns n decodable PNGs of the requested size with revised prompts", async () => {
    const url = await start({ noise: 8 });
    const res = await generate(url, { model: "flux", prompt: "a red fox", n: 3, size: "64x32", response_format: "b64_json" });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { created: number; data: { b64_json: string; revised_prompt: string }[] };

    expect(json.data).toHaveLength(3);
    expect(Math.abs(json.created - Date.now() / 1000)).toBeLessThan(60);
    for (const item of json.data) {
      const png = PNG.sync.read(Buffer.from(item.b64_json, "base64"));
      expect([png.width, png.height]).toEqual([64, 32]);
      expect(item.revised_prompt).toBe("a red fox (as rendered by flux)");
    }
    expect(simulator?.stats()).toMatchObject({ requests: 1, images: 3, responses: { ok: 1 } });
  });

  it("is deterministic per (prompt, seed) and differs across items, prompts and seeds", async () => {
    const url = await start();
    const [a0, a1] = await b64Images(url, { prompt: "cat", n: 2, size: "32x32" });
    const [again] = await b64Images(url, { prompt: "cat", size: "32x32" });
    const [otherPrompt] = await b64Images(url, { prompt: "dog", size: "32x32" });
    const [seeded] = await b64Images(url, { prompt: "cat", seed: 5, size: "32x32" });
    const [seededAgain] = await b64Images(url, { prompt: "a different prompt", seed: 5, size: "32x32" });

    expect(again?.equals(a0!)).toBe(true);
    expect(a1?.equals(a0!)).toBe(false);
    expect(otherPrompt?.equals(a0!)).toBe(false);
    expect(seeded?.equals(a0!)).toBe(false);
    // The request seed alone decides the picture, like a real diffusion server.
    expect(seededAgain?.equals(seeded!)).toBe(true);
  });

  it("defaults to url format, served from /files", async () => {
    const url = await start({ revisedPrompt: false });
    const res = await generate(url, { model: "sim", prompt: "boat", n: 2, size: "16x16" });
    const json = (await res.json()) as { data: Record<string, string>[] };

    expect(json.data).toHaveLength(2);
    for (const item of json.data) {
      expect(Object.keys(item)).toEqual(["url"]);
      expect(item.url).toMatch(new RegExp(`^${url}/files/[0-9a-f]+\\.png$`));
      const file = await fetch(item.url!);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe("image/png");
      const png = PNG.sync.read(Buffer.from(await file.arrayBuffer()));
      expect([png.width, png.height]).toEqual([16, 16]);
    }
    expect((await fetch(`${url}/files/0123abcd.png`)).status).toBe(404);
  });

  it.each([
    [{ model: "sim" }, "prompt"],
    [{ model: "sim", prompt: "" }, "prompt"],
    [{ model: "sim", prompt: 42 }, "prompt"],
    [{ model: "sim", prompt: "x", n: 0 }, "n"],
    [{ model: "sim", prompt: "x", n: 11 }, "n"],
    [{ model: "sim", prompt: "x", n: 1.5 }, "n"],
    [{ model: "sim", prompt: "x", size: "big" }, "size"],
    [{ model: "sim", prompt: "x", size: "4097x10" }, "size"],
    [{ model: "sim", prompt: "x", size: "0x10" }, "size"],
    [{ model: "sim", prompt: "x", response_format: "jpeg" }, "response_format"],
    [["not", "an", "object"], null],
  ])("rejects %j with 400 naming param %s", async (body, param) => {
    const url = await start();
    const res = await generate(url, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(json.error).toMatchObject({ type: "invalid_request_error", param, code: null });
    expect(json.error.message).toEqual(expect.any(String));
    expect(simulator?.stats().responses.badRequest).toBe(1);
  });

  it("accepts and ignores unknown parameters and nulls", async () => {
    const url = await start();
    const res = await generate(url, { model: "sim", prompt: "x", size: "8x8", n: null, quality: "hd", style: "vivid", user: "u1" });
    expect(res.status).toBe(200);
  });

  it("answers 400 to malformed JSON and 413 to bodies over 1 MB", async () => {
    const url = await start();
    expect((await generate(url, '{"prompt": ')).status).toBe(400);
    const huge = JSON.stringify({ model: "sim", prompt: "x".repeat(1024 * 1024 + 10) });
    expect((await generate(url, huge)).status).toBe(413);
    // The connection is still usable after both.
    expect((await generate(url, { model: "sim", prompt: "ok", size: "8x8" })).status).toBe(200);
  });

  it("requires the bearer key when apiKey is set", async () => {
    const url = await start({ apiKey: "sk-test" });
    const body = { model: "sim", prompt: "x", size: "8x8" };
    const missing = await generate(url, body);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    expect((await generate(url, body, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await generate(url, body, { authorization: "Bearer sk-test" })).status).toBe(200);
    expect(simulator?.stats().responses).toMatchObject({ unauthorized: 2, ok: 1 });
  });
});

describe("other routes", () => {
  it("serves health and the model list", async () => {
    const url = await start({ apiKey: "k" });
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${url}/v1/models`)).json()).toEqual({
      object: "list",
      data: [{ id: "sim", object: "model", created: 0, owned_by: "simulator" }],
    });
  });

  it("answers 404 for unknown routes and 405 for wrong methods, in the OpenAI envelope", async () => {
    const url = await start();
    const notFound = await fetch(`${url}/v1/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: "invalid_request_error" } });

    const wrongMethod = await fetch(`${url}/v1/images/generations`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(await wrongMethod.json()).toMatchObject({ error: { message: expect.any(String) } });
  });
});
