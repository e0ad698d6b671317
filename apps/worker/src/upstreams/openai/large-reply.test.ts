import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { attemptFailure, useFixtureServer } from "../../../test-support/fixture-server.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createOpenAiUpstream } from "./client.js";

/**
 * ~1 MB images read while the reply arrives, over real loopback HTTP: the
 * server sends each reply in pieces cut where a reader that decodes on the
 * way could go wrong, waiting between pieces so they arrive apart.
 */
const server = useFixtureServer();
const request = { model: "m", prompt: "a fox", n: 1, size: "1024x1024", parameters: {} };
const signal = () => new AbortController().signal;

function pngLike(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (Math.imul(i + seed, 2654435761) >>> 24) & 0xff;
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
}
const image = pngLike(1_050_001, 1);
const second = pngLike(300_002, 2);

async function sendInPieces(res: ServerResponse, body: Buffer, cuts: number[], end = true): Promise<void> {
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    await new Promise((resolve) => res.write(body.subarray(from, cut), resolve));
    await sleep(5);
    from = cut;
  }
  if (end) res.end(body.subarray(from));
  else res.write(body.subarray(from));
}

/** Cut points: inside the key, right after the opening quote, inside a quad, between `\` and `/`, before the closing quote. */
function awkwardCuts(body: string): number[] {
  const key = body.indexOf('"b64_json"');
  const value = body.indexOf('"', key + 10) + 1;
  const escape = body.indexOf("\\/", value);
  const close = body.indexOf('"', value);
  return [key + 4, value, value + 4001, ...(escape > 0 ? [escape + 1] : []), close - 1].filter((cut) => cut > 0);
}

const escapedSlashes = (base64: string) => base64.replaceAll("/", "\\/");
const lineBreaks = (base64: string) => base64.replace(/(.{76})/g, "$1\\n");

describe("OpenAI-compatible upstream, a ~1 MB reply read as it arrives", () => {
  it.each([
    ["plain base64, with a Content-Length", (b: string) => b, true],
    ["plain base64, chunked", (b: string) => b, false],
    ["escaped slashes, as some JSON encoders write them", escapedSlashes, true],
    ["MIME line breaks, chunked", lineBreaks, false],
  ])("returns exactly the image's bytes: %s", async (_name, encode, withLength) => {
    const body = `{"created":1,"data":[{"revised_prompt":"a \\"fox\\", [red]","b64_json":"${encode(image.toString("base64"))}"}],"usage":null}`;
    server.handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json", ...(withLength ? { "content-length": String(Buffer.byteLength(body)) } : {}) });
      void sendInPieces(res, Buffer.from(body), awkwardCuts(body));
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const [got] = await upstream.generate(request, signal());
    expect(got!.contentType).toBe("image/png");
    expect(got!.bytes.equals(image)).toBe(true);
    expect(got!.revisedPrompt).toBe('a "fox", [red]');
    await upstream.close();
  });

  it("returns both images of a two-image reply, each exactly", async () => {
    const body = `{"data":[{"b64_json":"${image.toString("base64")}"},{"b64_json":"${second.toString("base64")}","revised_prompt":"two"}]}`;
    server.handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      void sendInPieces(res, Buffer.from(body), [...awkwardCuts(body), body.lastIndexOf('"b64_json"') + 3]);
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const images = await upstream.generate({ ...request, n: 2 }, signal());
    expect(images.map((each) => [each.bytes.length, each.revisedPrompt])).toEqual([
      [image.length, undefined],
      [second.length, "two"],
    ]);
    expect(images[0]!.bytes.equals(image) && images[1]!.bytes.equals(second)).toBe(true);
    await upstream.close();
  });

  const body = Buffer.from(`{"data":[{"b64_json":"${image.toString("base64")}"}]}`);
  const failure = (promise: Promise<unknown>) => attemptFailure(promise, UpstreamAttemptError);

  it("calls a reply whose connection drops mid-image a connection failure", async () => {
    server.handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      void sendInPieces(res, body.subarray(0, 500_001), [4_001], false).then(() => res.destroy());
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    expect((await failure(upstream.generate(request, signal()))).kind).toBe("connection");
    await upstream.close();
  });

  it("calls a reply that ends cleanly in the middle of the image an invalid response", async () => {
    server.handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      void sendInPieces(res, body.subarray(0, 500_001), [4_001]);
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    expect((await failure(upstream.generate(request, signal()))).kind).toBe("invalid_response");
    await upstream.close();
  });

  it("calls a reply that turns into garbage after the image began an invalid response", async () => {
    const garbage = Buffer.concat([body.subarray(0, 300_000), Buffer.from("<html>502 Bad Gateway</html>")]);
    server.handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      void sendInPieces(res, garbage, [100_000]);
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    expect((await failure(upstream.generate(request, signal()))).kind).toBe("invalid_response");
    await upstream.close();
  });

  it("gives up on a reply that stalls mid-image at the deadline, and lets its connection go", async () => {
    let closed!: Promise<void>;
    server.handler = (req, _body, res) => {
      closed = new Promise((resolve) => req.socket.on("close", () => resolve()));
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      res.write(body.subarray(0, 200_000));
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    expect((await failure(upstream.generate(request, AbortSignal.timeout(300)))).kind).toBe("timeout");
    await closed;
    await upstream.close();
  });

  it("reads an error status's body, even in pieces, for the server's own words", async () => {
    const error = Buffer.from('{"error":{"message":"the GPU fell over","type":"server_error"}}');
    server.handler = (_req, _body, res) => {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "2" });
      void sendInPieces(res, error, [5, 20]);
    };
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const got = await failure(upstream.generate(request, signal()));
    expect(got.kind).toBe("http");
    expect(got.details).toMatchObject({ status: 503, retryAfterMs: 2000, upstreamMessage: "the GPU fell over" });
    await upstream.close();
  });
});
