import { describe, expect, it } from "vitest";
import { attemptFailure, fixtureReader, reply, useFixtureServer } from "../../../test-support/fixture-server.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createOpenAiUpstream } from "./client.js";

/** OpenAI's image stream as recorded (partials, a keep-alive comment, completed with usage), over real HTTP. */
const fixture = fixtureReader(import.meta.url);
const server = useFixtureServer();
const request = { model: "m", prompt: "a fox", n: 1, size: "1024x1024", parameters: {} };
const sse = (name: string) => reply(200, fixture(name), { "content-type": "text/event-stream" });

describe("OpenAI-compatible upstream, streaming", () => {
  it("asks for stream and partial_images, hands each partial on, and returns the completed image with its usage", async () => {
    server.handler = sse("stream-two-partials.sse");
    server.received.length = 0;
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const partials: Buffer[] = [];
    const images = await upstream.generate({ ...request, partials: { count: 2, emit: (image) => partials.push(image) } }, new AbortController().signal);
    expect(JSON.parse(server.received[0]!.body)).toMatchObject({ stream: true, partial_images: 2, response_format: "b64_json" });
    expect(partials).toHaveLength(2);
    expect(partials[0]!.subarray(1, 4).toString()).toBe("PNG");
    expect(images).toHaveLength(1);
    expect(images[0]!.usage).toMatchObject({ total_tokens: 4210 });
    await upstream.close();
  });

  it("relays no more partials than asked for", async () => {
    server.handler = sse("stream-two-partials.sse");
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const partials: Buffer[] = [];
    await upstream.generate({ ...request, partials: { count: 1, emit: (image) => partials.push(image) } }, new AbortController().signal);
    expect(partials).toHaveLength(1);
    await upstream.close();
  });

  it("reads a server that ignores stream and answers JSON as an ordinary reply", async () => {
    server.handler = reply(200, fixture("two-images.json"));
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const images = await upstream.generate({ ...request, n: 2, partials: { count: 2, emit: () => {} } }, new AbortController().signal);
    expect(images).toHaveLength(2);
    await upstream.close();
  });

  it("turns an error event after the stream began into a failed attempt with the server's words", async () => {
    server.handler = sse("stream-error.sse");
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const error = await attemptFailure(upstream.generate({ ...request, partials: { count: 2, emit: () => {} } }, new AbortController().signal), UpstreamAttemptError);
    expect(error.details).toMatchObject({ status: 500, upstreamMessage: "The server had an error while processing your request." });
    await upstream.close();
  });
});
