import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openaiClient, suite } from "./support/context.js";

/** What the API may answer to bad input: documented 4xx, each in the error envelope. */
const DOCUMENTED_4XX = new Set([400, 401, 403, 404, 429]);

async function send(path: string, init: { method?: string; body?: string | Uint8Array; contentType?: string; auth?: boolean }) {
  const { stacks, apiKey } = suite();
  const response = await fetch(`${stacks.fs.apiUrl}${path}`, {
    method: init.method ?? "POST",
    headers: {
      ...(init.auth === false ? {} : { authorization: `Bearer ${apiKey}` }),
      ...(init.contentType ? { "content-type": init.contentType } : {}),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, text };
}

function expectDocumentedRefusal(reply: { status: number; text: string }): void {
  expect(DOCUMENTED_4XX.has(reply.status) || reply.status === 200 || reply.status === 202, `status ${reply.status}: ${reply.text.slice(0, 200)}`).toBe(true);
  if (reply.status >= 400) {
    const body = JSON.parse(reply.text) as { error: { code: string; message: string; type: string } };
    expect(typeof body.error.code).toBe("string");
    expect(typeof body.error.message).toBe("string");
  }
}

/** Values that look like a generation request but are wrong in every way a caller can be. */
const hostileBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      model: fc.oneof(fc.constant("test-single"), fc.constant("test-sdxl"), fc.string(), fc.integer(), fc.constant(null)),
      prompt: fc.oneof(fc.string({ maxLength: 50 }), fc.string({ minLength: 5000, maxLength: 6000 }), fc.integer(), fc.array(fc.string())),
      n: fc.oneof(fc.integer({ min: -5, max: 20 }), fc.double(), fc.string()),
      size: fc.oneof(fc.constantFrom("512x512", "1024x1024", "0x0", "99999x99999", "../../etc"), fc.string()),
      response_format: fc.oneof(fc.constantFrom("url", "b64_json"), fc.string()),
      seed: fc.oneof(fc.integer(), fc.double(), fc.string()),
      webhook_url: fc.oneof(fc.constant("http://127.0.0.1:1/x"), fc.webUrl(), fc.string()),
    },
    { requiredKeys: [] },
  ),
  // Deep nesting.
  fc.integer({ min: 50, max: 2000 }).map((depth) => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown),
);

describe("property-based fuzzing of the HTTP API with hostile input", () => {
  it("answers every hostile body with a documented 4xx envelope (or a real result), never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.constantFrom("application/json", "text/plain", undefined), async (body, contentType) => {
        // Keep the fuzz cheap: whatever is valid by accident must not queue real GPU work at scale.
        const reply = await send("/v1/images/generations", { body: JSON.stringify(body), contentType });
        expectDocumentedRefusal(reply);
      }),
      { numRuns: 150 },
    );
  });

  it("refuses bytes that are not JSON or not UTF-8, and oversized bodies, with 400", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
        expectDocumentedRefusal(await send("/v1/images/generations", { body: bytes, contentType: "application/json" }));
      }),
      { numRuns: 60 },
    );
    const oversized = await send("/v1/images/generations", { body: JSON.stringify({ model: "test-single", prompt: "x".repeat(2_000_000) }), contentType: "application/json" });
    expect(oversized.status).toBe(400);
  });

  it("never serves a file outside the image store, whatever the path", async () => {
    const segment = fc.oneof(fc.constantFrom("..", "%2e%2e", "..%2f", "%00", "etc", "passwd", "images", "2026-11-25", "default"), fc.string({ maxLength: 20 }));
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), async (segments) => {
        const path = `/v1/images/files/${segments.map((part) => encodeURIComponent(part).replace(/%25/g, "%")).join("/")}?expires=9999999999&signature=x`;
        const reply = await send(path, { method: "GET", auth: false });
        // `..` segments may be resolved by the client before sending: then it is an unknown, unauthenticated URL.
        expect([400, 401, 403, 404]).toContain(reply.status);
      }),
      { numRuns: 80 },
    );
  });

  it("keeps serving valid requests after all of that", async () => {
    const result = await openaiClient(suite().stacks.fs).images.generate({ model: "test-single", prompt: "still here" });
    expect(result.data).toHaveLength(1);
  });
});
