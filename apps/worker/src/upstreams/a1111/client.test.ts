import { describe, expect, it } from "vitest";
import { attemptFailure, fixtureReader, reply, useFixtureServer } from "../../../test-support/fixture-server.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createA1111Upstream } from "./client.js";

const fixture = fixtureReader(import.meta.url);
const server = useFixtureServer();
const upstream = () => createA1111Upstream({ name: "webui", baseUrl: server.url, apiKey: "user:secret", checkpoint: "sdxl_base.safetensors", connections: 2 });
const request = { model: "ignored", prompt: "a red fox", n: 2, size: "512x768", parameters: { seed: 7, negative_prompt: "blur", guidance_scale: 6.5, steps: 30 } };

describe("AUTOMATIC1111 / Forge upstream", () => {
  it("sends txt2img in the WebUI's field names, one batch of n, on the configured checkpoint", async () => {
    server.handler = reply(200, fixture("txt2img-two.json"));
    server.received.length = 0;
    await upstream().generate(request, new AbortController().signal);
    const sent = server.received[0]!;
    expect(sent.path).toBe("/sdapi/v1/txt2img");
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from("user:secret").toString("base64")}`);
    expect(JSON.parse(sent.body)).toMatchObject({
      prompt: "a red fox",
      negative_prompt: "blur",
      width: 512,
      height: 768,
      batch_size: 2,
      n_iter: 1,
      seed: 7,
      steps: 30,
      cfg_scale: 6.5,
      override_settings: { sd_model_checkpoint: "sdxl_base.safetensors" },
    });
    expect(JSON.parse(sent.body)).not.toHaveProperty("guidance_scale");
  });

  it("turns OpenAI's quality into a step count, unless the caller chose steps", async () => {
    server.handler = reply(200, fixture("txt2img-two.json"));
    server.received.length = 0;
    const { steps: _steps, ...withoutSteps } = request.parameters;
    await upstream().generate({ ...request, parameters: withoutSteps, options: { quality: "low" } }, new AbortController().signal);
    await upstream().generate({ ...request, options: { quality: "low" } }, new AbortController().signal);
    expect(server.received.map((sent) => JSON.parse(sent.body).steps)).toEqual([12, 30]);
    expect(JSON.parse(server.received[0]!.body)).not.toHaveProperty("quality");
  });

  it("returns the batch's PNGs, leaving out the grid image some servers add first", async () => {
    server.handler = reply(200, fixture("txt2img-grid.json"));
    const images = await upstream().generate(request, new AbortController().signal);
    expect(images).toHaveLength(2);
    expect(images.map((image) => image.contentType)).toEqual(["image/png", "image/png"]);
    expect(images[0]!.bytes.equals(fixture("../../comfyui/fixtures/image.png"))).toBe(true);
  });

  it("reports CUDA out of memory (500) with the WebUI's message, and validation (422) as the caller's", async () => {
    server.handler = reply(500, fixture("oom-500.json"));
    const oom = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(oom.details).toMatchObject({ status: 500, upstreamMessage: expect.stringContaining("CUDA out of memory") });
    server.handler = reply(422, fixture("validation-422.json"));
    const invalid = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(invalid.details).toMatchObject({ status: 422, upstreamMessage: "value is not a valid integer" });
  });

  it("reports overload with its Retry-After", async () => {
    server.handler = reply(503, '{"error":"ServiceUnavailable","detail":"busy"}', { "retry-after": "4" });
    const error = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(error.details).toMatchObject({ status: 503, retryAfterMs: 4000, upstreamMessage: "busy" });
  });

  it.each([
    ["cut-off JSON", '{"images":["iVBOR'],
    ["no images", '{"images":[],"info":"{}"}'],
    ["bytes that are not an image", '{"images":["bm90IGFuIGltYWdl"]}'],
  ])("calls %s an invalid response", async (_name, body) => {
    server.handler = reply(200, body);
    expect((await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError)).kind).toBe("invalid_response");
  });

  it("probes /sdapi/v1/progress, never txt2img", async () => {
    server.handler = reply(200, '{"progress":0.0,"eta_relative":0.0,"state":{}}');
    server.received.length = 0;
    await upstream().probe(AbortSignal.timeout(1000));
    expect(server.received.map((r) => r.path)).toEqual(["/sdapi/v1/progress?skip_current_image=true"]);
    server.handler = (req) => req.socket.destroy();
    expect((await attemptFailure(upstream().probe(AbortSignal.timeout(1000)), UpstreamAttemptError)).kind).toBe("connection");
  });

  it("relays the progress endpoint's changing current_image as partials while the generation runs", async () => {
    const preview = (name: string) => JSON.parse(fixture(name).toString()).images[0] as string;
    const previews = [preview("txt2img-two.json"), preview("txt2img-grid.json")];
    let polls = 0;
    server.received.length = 0;
    server.handler = (req, body, res) => {
      if ((req.url ?? "").startsWith("/sdapi/v1/progress")) {
        const image = previews[Math.min(polls++, previews.length - 1)];
        return reply(200, JSON.stringify({ progress: 0.5, eta_relative: 1, state: {}, current_image: image, textinfo: null }))(req, body, res);
      }
      // The generation answers after a few progress polls.
      setTimeout(() => reply(200, fixture("txt2img-two.json"))(req, body, res), 120);
    };
    const partials: Buffer[] = [];
    const webui = createA1111Upstream({ name: "webui", baseUrl: server.url, connections: 4, progressPollMs: 20 });
    await webui.generate({ ...request, partials: { count: 2, emit: (image) => partials.push(image) } }, new AbortController().signal);
    expect(partials.length).toBe(2);
    expect(partials[0]!.equals(partials[1]!)).toBe(false);
    expect(server.received.some((sent) => sent.path === "/sdapi/v1/progress?skip_current_image=false")).toBe(true);
  });
});
