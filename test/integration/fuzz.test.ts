import { connect } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { openaiClient, suite } from "./support/context.js";

/** What the API may answer to bad input: documented 4xx, each in the error envelope. */
const DOCUMENTED_4XX = new Set([400, 401, 403, 404, 429]);

async function send(
  path: string,
  init: { method?: string; body?: string | Uint8Array | FormData; contentType?: string; auth?: boolean; token?: string },
) {
  const { stacks, apiKey } = suite();
  const response = await fetch(`${stacks.fs.apiUrl}${path}`, {
    method: init.method ?? "POST",
    headers: {
      ...(init.auth === false ? {} : { authorization: `Bearer ${init.token ?? apiKey}` }),
      ...(init.contentType ? { "content-type": init.contentType } : {}),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, text, contentType: response.headers.get("content-type") ?? "" };
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

/** Names every plain object inherits; a lookup by a caller's name must never find these. */
const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupGetter__",
];
const prototypeName = fc.constantFrom(...PROTOTYPE_NAMES);

/**
 * JSON text with prototype-named keys: JSON.stringify cannot write an own
 * `__proto__` key from an object literal, so the text is assembled by hand.
 */
function objectText(entries: Array<[string, string]>): string {
  return `{${entries.map(([key, valueText]) => `${JSON.stringify(key)}:${valueText}`).join(",")}}`;
}
const hostileValueText = fc.oneof(
  fc.constantFrom("1", "true", '"x"', "{}", "[]"),
  fc.tuple(prototypeName, fc.constantFrom("1", '"x"', "{}")).map(([key, value]) => objectText([[key, value]])),
);
const protoEntries = fc.array(fc.tuple(prototypeName, hostileValueText), { minLength: 1, maxLength: 3 });

describe("property-based fuzzing of the HTTP API with hostile input", () => {
  it("answers bodies with prototype-named keys at every level with a 4xx naming the key, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(protoEntries, fc.boolean(), async (entries, nested) => {
        const base: Array<[string, string]> = [
          ["model", '"test-single"'],
          ["prompt", nested ? objectText(entries) : '"x"'],
        ];
        const reply = await send("/v1/images/generations", { body: objectText(nested ? base : [...base, ...entries]), contentType: "application/json" });
        expect(reply.status, reply.text.slice(0, 200)).toBe(400);
        const error = (JSON.parse(reply.text) as { error: { code: string; param: string | null } }).error;
        expect(error.code).toBe("invalid_payload");
        expect(error.param).toBe(nested ? "prompt" : entries[0]![0]);
      }),
      { numRuns: 60 },
    );
  });

  it("answers batch, file and admin bodies with prototype-named keys with a documented 4xx, never a 5xx", async () => {
    const { adminToken } = suite();
    await fc.assert(
      fc.asyncProperty(protoEntries, async (entries) => {
        const bodies: Array<[string, string, string | undefined]> = [
          ["/v1/batches", objectText([["input_file_id", '"file-nope"'], ["endpoint", '"/v1/images/generations"'], ["completion_window", '"24h"'], ...entries]), undefined],
          ["/v1/batches", objectText([["input_file_id", '"file-nope"'], ["endpoint", '"/v1/images/generations"'], ["completion_window", '"24h"'], ["metadata", objectText(entries)]]), undefined],
          ["/admin/v1/workspaces", objectText([["id", '"proto-fuzz"'], ...entries]), adminToken],
          ["/admin/v1/workspaces", objectText([["id", '"proto-fuzz"'], ["limits", objectText(entries)]]), adminToken],
        ];
        for (const [path, body, token] of bodies) {
          expectDocumentedRefusal(await send(path, { body, contentType: "application/json", ...(token ? { token } : {}) }));
        }
        const form = new FormData();
        for (const [key] of entries) form.append(key, "batch");
        form.append("file", new Blob([`${imageLine("a", { model: "test-single", prompt: "p" })}\n`]), "in.jsonl");
        expectDocumentedRefusal(await send("/v1/files", { body: form }));
        const query = entries.map(([key]) => `${encodeURIComponent(key)}=1`).join("&");
        expectDocumentedRefusal(await send(`/v1/batches?${query}`, { method: "GET" }));
        expectDocumentedRefusal(await send(`/v1/models?${query}`, { method: "GET" }));
      }),
      { numRuns: 25 },
    );
  });

  it("ends a batch whose lines carry prototype-named keys, with the lines refused, instead of leaving it validating", async () => {
    const client = openaiClient(suite().stacks.fs);
    const lines = PROTOTYPE_NAMES.map((name, index) => `{"custom_id":"line-${index}","method":"POST","url":"/v1/images/generations","body":{"model":"test-single","prompt":"p",${JSON.stringify(name)}:1}}`);
    // The same names on the line itself, beside the four fields a line has.
    lines.push(`{"custom_id":"line-top","method":"POST","url":"/v1/images/generations","constructor":1,"__proto__":{},"body":{"model":"test-single","prompt":"p"}}`);
    const file = await uploadBatchFile(client, lines);
    const batch = await createImageBatch(client, file.id, { metadata: { toString: "x", constructor: "y" } });
    expect(batch.metadata).toEqual({ toString: "x", constructor: "y" });
    const ended = await waitForBatch(client, batch.id, ["completed", "failed", "expired", "cancelled"], 30_000);
    expect(["completed", "failed"]).toContain(ended.status);
  });

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
        // The client resolves plain `..` segments before sending. Those that climb out of the
        // files route reach another URL: an unknown one (404), or `/`, which redirects to the
        // console's page. What comes back is then never a file's bytes.
        if (!new URL(path, "http://api").pathname.startsWith("/v1/images/files/") && reply.status === 200) {
          expect(reply.contentType).toMatch(/^text\/html/);
          expect(reply.text).toContain("<title>imagegen console</title>");
          return;
        }
        expect([400, 401, 403, 404]).toContain(reply.status);
      }),
      { numRuns: 80 },
    );
  });

  it("refuses metadata of any size beyond OpenAI's limits with a 4xx, never a 5xx", async () => {
    const input = await uploadBatchFile(openaiClient(suite().stacks.fs), [imageLine("a", { model: "test-single", prompt: "p" })]);
    const metadata = fc.dictionary(fc.string({ maxLength: 80 }), fc.oneof(fc.string({ maxLength: 600 }), fc.integer(), fc.constant(null)), { maxKeys: 40 });
    await fc.assert(
      fc.asyncProperty(metadata, async (value) => {
        const reply = await send("/v1/batches", {
          body: JSON.stringify({ input_file_id: input.id, endpoint: "/v1/images/generations", completion_window: "24h", metadata: value }),
          contentType: "application/json",
        });
        expectDocumentedRefusal(reply);
        const entries = Object.entries(value);
        const withinLimits = entries.length <= 16 && entries.every(([key, text]) => key.length <= 64 && typeof text === "string" && text.length <= 512);
        if (!withinLimits) expect(reply.status).toBe(400);
        else if (reply.status === 200) await send(`/v1/batches/${(JSON.parse(reply.text) as { id: string }).id}/cancel`, {});
      }),
      { numRuns: 40 },
    );
  });

  it("survives bodies cut off at any byte, on JSON and multipart routes", async () => {
    const { stacks, apiKey } = suite();
    const { port } = new URL(stacks.fs.apiUrl);
    const json = JSON.stringify({ model: "test-single", prompt: "cut", size: "256x256" });
    const boundary = "----fuzz";
    const multipart =
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n${imageLine("a", { model: "test-single", prompt: "p" })}\n\r\n--${boundary}--\r\n`;
    const targets = [
      { path: "/v1/images/generations", type: "application/json", body: json },
      { path: "/v1/batches", type: "application/json", body: JSON.stringify({ input_file_id: "file-x", endpoint: "/v1/images/generations", completion_window: "24h" }) },
      { path: "/v1/files", type: `multipart/form-data; boundary=${boundary}`, body: multipart },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.double({ min: 0, max: 0.99, noNaN: true }), async (target, fraction) => {
        const cut = Math.floor(Buffer.byteLength(target.body) * fraction);
        await new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), "127.0.0.1", () => {
            socket.write(
              `POST ${target.path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: ${target.type}\r\n` +
                `content-length: ${Buffer.byteLength(target.body)}\r\n\r\n${Buffer.from(target.body).subarray(0, cut).toString("latin1")}`,
              () => {
                socket.destroy();
                resolve();
              },
            );
          });
          socket.on("error", reject);
        });
      }),
      { numRuns: 60 },
    );
    // Nothing broke: the service answers at once.
    expectDocumentedRefusal(await send("/v1/images/generations", { body: "{}", contentType: "application/json" }));
  });

  it("keeps serving valid requests after all of that", async () => {
    const result = await openaiClient(suite().stacks.fs).images.generate({ model: "test-single", prompt: "still here" });
    expect(result.data).toHaveLength(1);
  });
});
