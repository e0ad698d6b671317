import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamAttemptError, type ImageUpstream } from "../upstream.js";
import { createOpenAiUpstream } from "./client.js";

/** Replies recorded from OpenAI-compatible servers, served over real HTTP. */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler;
let server: Server;
let baseUrl: string;
let upstream: ImageUpstream;
const received: Array<{ path: string; authorization: string | undefined; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", authorization: req.headers.authorization, body: JSON.parse(body) });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  upstream = createOpenAiUpstream({ name: "fixture", baseUrl, apiKey: "upstream-secret", connections: 2 });
});

afterAll(async () => {
  await upstream.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const request = { model: "sdxl-1", prompt: "a red fox", n: 2, size: "512x512", parameters: { seed: 7, negative_prompt: "blur" } };
const reply = (status: number, body: string, headers: Record<string, string> = {}): Handler => (_req, _body, res) => {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
};
const attemptFailure = async (signal = new AbortController().signal) => {
  try {
    await upstream.generate(request, signal);
  } catch (error) {
    if (error instanceof UpstreamAttemptError) return error;
    throw error;
  }
  throw new Error("expected the attempt to fail");
};

describe("OpenAI-compatible upstream", () => {
  it("sends the request in the protocol's shape with model parameters and the upstream's key", async () => {
    handler = reply(200, fixture("two-images.json"));
    received.length = 0;
    await upstream.generate(request, new AbortController().signal);
    expect(received[0]).toEqual({
      path: "/api/v1/images/generations",
      authorization: "Bearer upstream-secret",
      body: { model: "sdxl-1", prompt: "a red fox", n: 2, size: "512x512", response_format: "b64_json", seed: 7, negative_prompt: "blur" },
    });
  });

  it("passes OpenAI's standard fields under their own names, only those set", async () => {
    handler = reply(200, fixture("two-images.json"));
    received.length = 0;
    await upstream.generate({ ...request, options: { quality: "high", background: "transparent", user: "u-1", safetyIdentifier: "u-1" } }, new AbortController().signal);
    expect(received[0]!.body).toMatchObject({ quality: "high", background: "transparent", user: "u-1", safety_identifier: "u-1", response_format: "b64_json" });
    expect(received[0]!.body).not.toHaveProperty("style");
    expect(received[0]!.body).not.toHaveProperty("output_format");
  });

  it("carries the usage a server reports on the reply's first image, and none when it reports none", async () => {
    handler = reply(200, fixture("with-usage.json"));
    const [image] = await upstream.generate({ ...request, n: 1 }, new AbortController().signal);
    expect(image!.usage).toEqual({ input_tokens: 52, input_tokens_details: { image_tokens: 0, text_tokens: 52 }, output_tokens: 4160, total_tokens: 4212 });
    handler = reply(200, fixture("two-images.json"));
    const images = await upstream.generate(request, new AbortController().signal);
    expect(images.map((each) => each.usage)).toEqual([undefined, undefined]);
  });

  it("returns decoded PNG bytes and the revised prompt", async () => {
    handler = reply(200, fixture("two-images.json"));
    const images = await upstream.generate(request, new AbortController().signal);
    expect(images).toHaveLength(2);
    expect(images[0]!.contentType).toBe("image/png");
    expect(images[0]!.bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(images[0]!.revisedPrompt).toBe("a red fox, digital art");
    expect(images[1]!.revisedPrompt).toBeUndefined();
  });

  it("reports a 429 with its Retry-After", async () => {
    handler = reply(429, '{"error":{"message":"slow down"}}', { "retry-after": "3" });
    const error = await attemptFailure();
    expect(error.kind).toBe("http");
    expect(error.details).toMatchObject({ status: 429, retryAfterMs: 3000, upstreamMessage: "slow down" });
  });

  it("keeps the upstream's message when it refuses the prompt", async () => {
    handler = reply(400, fixture("content-policy-400.json"));
    const error = await attemptFailure();
    expect(error.details).toMatchObject({ status: 400, upstreamMessage: "Your prompt was rejected by the safety system." });
  });

  it.each([
    ["a body that is not JSON", '{"created": 17, "data": [{"b64_'],
    ["JSON of another shape", fixture("wrong-shape.json")],
    ["bytes that are not an image", fixture("not-an-image.json")],
  ])("calls %s an invalid response", async (_name, body) => {
    handler = reply(200, body);
    expect((await attemptFailure()).kind).toBe("invalid_response");
  });

  it("calls a dropped connection a connection failure", async () => {
    handler = (req) => req.socket.destroy();
    expect((await attemptFailure()).kind).toBe("connection");
  });

  it("calls an answer that never comes before the deadline a timeout", async () => {
    handler = () => {};
    expect((await attemptFailure(AbortSignal.timeout(200))).kind).toBe("timeout");
  });
});
