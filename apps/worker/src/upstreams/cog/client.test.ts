import { describe, expect, it } from "vitest";
import { attemptFailure, fixtureReader, reply, useFixtureServer } from "../../../test-support/fixture-server.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createCogUpstream } from "./client.js";

const fixture = fixtureReader(import.meta.url);
const server = useFixtureServer();
const upstream = () => createCogUpstream({ name: "cog", baseUrl: server.url, connections: 2 });
const request = { model: "sdxl", prompt: "a red fox", n: 2, size: "512x512", parameters: { seed: 7, steps: 25 } };

describe("Replicate Cog upstream", () => {
  it("posts {input} with Cog's input names and decodes data-URI outputs", async () => {
    server.handler = reply(200, fixture("prediction-succeeded.json"));
    server.received.length = 0;
    const images = await upstream().generate(request, new AbortController().signal);
    expect(server.received[0]!.path).toBe("/predictions");
    expect(JSON.parse(server.received[0]!.body)).toEqual({
      input: { prompt: "a red fox", width: 512, height: 512, num_outputs: 2, seed: 7, num_inference_steps: 25 },
    });
    expect(images.map((image) => image.contentType)).toEqual(["image/png", "image/png"]);
  });

  it("treats a failed prediction like a server error, with the model's message", async () => {
    server.handler = reply(200, fixture("prediction-failed.json"));
    const error = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(error.details).toMatchObject({ status: 500, upstreamMessage: expect.stringContaining("CUDA out of memory") });
  });

  it("reports a busy container (409) and throttling (429 with Retry-After)", async () => {
    server.handler = reply(409, fixture("busy-409.json"));
    const busy = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(busy.details).toMatchObject({ status: 409, upstreamMessage: "Already running a prediction" });
    server.handler = reply(429, '{"detail":"Request was throttled.","status":429}', { "retry-after": "2" });
    const throttled = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(throttled.details).toMatchObject({ status: 429, retryAfterMs: 2000 });
  });

  it.each([
    ["cut-off JSON", '{"status":"succeeded","output":["data:image/png;base64,iVB'],
    ["an unknown status", '{"status":"exploded","output":null}'],
    ["an output that is not an image", '{"status":"succeeded","output":"data:image/png;base64,bm90IGFuIGltYWdl"}'],
  ])("calls %s an invalid response", async (_name, body) => {
    server.handler = reply(200, body);
    expect((await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError)).kind).toBe("invalid_response");
  });

  it("is ready when /health-check says READY or BUSY, not while starting", async () => {
    server.handler = reply(200, '{"status":"BUSY"}');
    await expect(upstream().probe(AbortSignal.timeout(1000))).resolves.toBeUndefined();
    server.handler = reply(200, fixture("health-setting-up.json"));
    const error = await attemptFailure(upstream().probe(AbortSignal.timeout(1000)), UpstreamAttemptError);
    expect(error.message).toContain("STARTING");
  });
});
