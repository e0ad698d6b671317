import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { openaiClient, suite } from "./support/context.js";

/** Sends a raw HTTP request so the test controls every byte (headers, framing, bodies). */
async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const { stacks, apiKey } = suite();
  const response = await fetch(`${stacks.fs.apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error: Record<string, unknown> } };
}


function expectEnvelope(body: { error: Record<string, unknown> }, code: string, param: string | null = null) {
  expect(body.error).toMatchObject({ code, param });
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
}

describe("the seed's error table, produced by real causes and read by the openai client", () => {
  it("400 invalid_payload when the model does not support the size", async () => {
    const error = await apiErrorOf(openaiClient(suite().stacks.s3).images.generate({ model: "test-single", prompt: "p", size: "1024x1024" }));
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_payload");
    expect(error.param).toBe("size");
    expect(error.type).toBe("invalid_request_error");
  });

  it("401 unauthorized for a wrong key", async () => {
    const error = await apiErrorOf(openaiClient(suite().stacks.s3, "sk-wrong-key-0000000000").images.generate({ model: "test-sdxl", prompt: "p" }));
    expect(error.status).toBe(401);
    expect(error.code).toBe("unauthorized");
  });

  it("404 model_not_found for an unknown model", async () => {
    const error = await apiErrorOf(openaiClient(suite().stacks.s3).images.generate({ model: "dall-e-17", prompt: "p" }));
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
    expect(error.param).toBe("model");
  });

  it("429 rate_limited with Retry-After once a key spends its requests per minute (shared across API replicas)", async () => {
    const { stacks, rateLimitPerMinute } = suite();
    const client = openaiClient(stacks.limited);
    for (let i = 0; i < rateLimitPerMinute; i++) {
      const { response } = await client.images.generate({ model: "test-single", prompt: `within budget ${i}` }).withResponse();
      expect(response.headers.get("x-ratelimit-remaining-requests")).toBe(String(rateLimitPerMinute - i - 1));
    }
    const error = await apiErrorOf(client.images.generate({ model: "test-single", prompt: "over budget" }));
    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limited");
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(error.headers?.get("x-ratelimit-limit-requests")).toBe(String(rateLimitPerMinute));
  });

  it("503 upstream_unavailable when no upstream answers", async () => {
    const error = await apiErrorOf(openaiClient(suite().stacks.s3).images.generate({ model: "test-down", prompt: "p", size: "256x256" }));
    expect(error.status).toBe(503);
    expect(error.code).toBe("upstream_unavailable");
  });
});

describe("bad input gets a clear 4xx in the envelope, naming the field", () => {
  it.each([
    ["missing model", { prompt: "p" }, "model"],
    ["missing prompt", { model: "test-sdxl" }, "prompt"],
    ["prompt of the wrong type", { model: "test-sdxl", prompt: ["p"] }, "prompt"],
    ["n of the wrong type", { model: "test-sdxl", prompt: "p", n: "2" }, "n"],
    ["n above the model's cap", { model: "test-sdxl", prompt: "p", n: 5 }, "n"],
    ["negative n", { model: "test-sdxl", prompt: "p", n: -1 }, "n"],
    ["unsupported size", { model: "test-sdxl", prompt: "p", size: "640x480" }, "size"],
    ["bad response_format", { model: "test-sdxl", prompt: "p", response_format: "jpeg" }, "response_format"],
    ["undeclared model parameter", { model: "test-single", prompt: "p", guidance_scale: 7 }, "guidance_scale"],
    ["declared parameter with a wrong type", { model: "test-sdxl", prompt: "p", steps: "many" }, "steps"],
    ["prompt over the model's limit", { model: "test-sdxl", prompt: "x".repeat(1001) }, "prompt"],
  ])("%s", async (_name, body, param) => {
    const response = await post("/v1/images/generations", JSON.stringify(body));
    expect(response.status).toBe(400);
    expectEnvelope(response.body, "invalid_payload", param);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it.each([
    ["malformed JSON", '{"model": "test-sdxl", "prompt": '],
    ["a JSON array", "[1,2,3]"],
    ["a JSON string", '"generate me a cat"'],
    ["a form-encoded body", "model=test-sdxl&prompt=p"],
  ])("refuses %s as invalid_payload", async (_name, body) => {
    const response = await post("/v1/images/generations", body);
    expect(response.status).toBe(400);
    expectEnvelope(response.body, "invalid_payload");
  });

  it("reports an empty body as the first missing field", async () => {
    const response = await post("/v1/images/generations", "");
    expect(response.status).toBe(400);
    expectEnvelope(response.body, "invalid_payload", "model");
  });

  it("refuses a body over the size limit as invalid_payload", async () => {
    const response = await post("/v1/images/generations", JSON.stringify({ model: "test-sdxl", prompt: "x".repeat(200_000) }));
    expect(response.status).toBe(400);
    expectEnvelope(response.body, "invalid_payload");
    expect(response.body.error.message).toMatch(/too large/);
  });

  it.each([
    ["no Authorization header", {}],
    ["a non-Bearer scheme", { authorization: "Basic dXNlcjpwYXNz" }],
    ["an empty Bearer token", { authorization: "Bearer " }],
    ["a key with spaces", { authorization: "Bearer a b c" }],
  ])("answers %s with 401 unauthorized", async (_name, headers) => {
    const { stacks } = suite();
    const response = await fetch(`${stacks.fs.apiUrl}/v1/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "test-sdxl", prompt: "p" }),
    });
    expect(response.status).toBe(401);
    expectEnvelope((await response.json()) as { error: Record<string, unknown> }, "unauthorized");
  });

  it("answers a URL with broken percent-encoding with 400 in the envelope, not a 500", async () => {
    const response = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/files/%?expires=1&signature=x`);
    expect(response.status).toBe(400);
    expectEnvelope((await response.json()) as { error: Record<string, unknown> }, "invalid_payload");
  });

  it("answers an unknown route with 404 in the envelope", async () => {
    const response = await post("/v1/images/edits-that-do-not-exist", "{}");
    expect(response.status).toBe(404);
    expectEnvelope(response.body, "not_found");
  });

  it("answers a request with a malformed header line with a 400 envelope, and keeps serving", async () => {
    const { stacks } = suite();
    const url = new URL(stacks.fs.apiUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write("POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0000b\r\nBad Header Without Colon\r\n\r\n");
      });
      let received = "";
      socket.on("data", (chunk) => (received += chunk.toString()));
      socket.on("end", () => resolve(received));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    // Even a request the HTTP parser refuses has an id to quote in a support ticket.
    expect(raw).toMatch(/\r\nx-request-id: req_[0-9a-f]{24}\r\n/i);
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toMatchObject({ error: { code: "invalid_payload" } });
    const next = await openaiClient(stacks.fs).images.generate({ model: "test-single", prompt: "still serving" });
    expect(next.data).toHaveLength(1);
  });

  it("answers oversized headers with 431 in the envelope, with a request id", async () => {
    const response = await fetch(`${suite().stacks.fs.apiUrl}/v1/models`, { headers: { "x-large": "a".repeat(20_000) } });
    expect(response.status).toBe(431);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expectEnvelope((await response.json()) as { error: Record<string, unknown> }, "invalid_payload");
  });

  it("answers a gzip body that is not gzip with a message about the compression, not about the URL", async () => {
    const response = await post("/v1/images/generations", Buffer.from("definitely not gzip"), { "content-encoding": "gzip" });
    expect(response.status).toBe(400);
    expectEnvelope(response.body, "invalid_payload");
    expect(response.body.error.message).not.toMatch(/percent-encoding|URL/);
    expect(response.body.error.message).toMatch(/compress|gzip/i);
  });

  it("answers OPTIONS without a plain-text body", async () => {
    const response = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/generations`, { method: "OPTIONS" });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("refuses an upload with more form fields than it reads, instead of silently dropping purpose", async () => {
    const form = new FormData();
    for (let index = 0; index < 10; index++) form.append(`extra${index}`, "x");
    form.append("purpose", "batch");
    form.append("file", new Blob(['{"custom_id":"a","method":"POST","url":"/v1/images/generations","body":{}}\n']), "in.jsonl");
    const { stacks, apiKey } = suite();
    const response = await fetch(`${stacks.fs.apiUrl}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: form });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("invalid_payload");
    expect(body.error.message).toMatch(/too many fields/);
  });

  it("does not echo a caller's x-request-id as its own", async () => {
    const response = await post("/v1/images/generations", JSON.stringify({ model: "test-single", prompt: "p" }), {
      "x-request-id": "req_chosen_by_caller",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).not.toBe("req_chosen_by_caller");
  });
});
