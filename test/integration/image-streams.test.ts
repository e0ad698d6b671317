import { GENERATE_IMAGE_QUEUE, queuePrefix } from "@imagegen/shared";
import { Redis } from "ioredis";
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { openaiClient, suite } from "./support/context.js";
import { pixelAt, redBlue } from "./support/pictures.js";
import { sizeOf } from "./support/png.js";

/**
 * `stream: true` through the official client's stream iterator: OpenAI's
 * event names and fields, partial images relayed worker → Redis → API, and
 * a caller hanging up.
 */
const client = () => openaiClient(suite().stacks.fs);
const isPng = (b64: string) => Buffer.from(b64, "base64").subarray(1, 4).toString() === "PNG";

describe("streaming images through the openai client", () => {
  it("streams partial images from an OpenAI-compatible upstream, then the completed image", async () => {
    const stream = await client().images.generate({ model: "test-sluggish", prompt: "a streamed lighthouse", size: "256x256", stream: true, partial_images: 2 });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]);
    const [first, second, completed] = events;
    expect(first).toMatchObject({ partial_image_index: 0, size: "256x256", output_format: "png", quality: "auto", background: "auto", created_at: expect.any(Number) });
    expect(second).toMatchObject({ partial_image_index: 1 });
    expect(isPng(first!.b64_json) && isPng(completed!.b64_json)).toBe(true);
    expect(sizeOf(Buffer.from(completed!.b64_json, "base64"))).toBe("256x256");
    // The simulated server reports token usage in its stream; it travels on.
    expect(completed).toMatchObject({ type: "image_generation.completed", usage: { total_tokens: expect.any(Number) } });
  });

  it.each([
    ["test-webui-sluggish", "A1111's progress previews"],
    ["test-comfy-sluggish", "ComfyUI's event-socket previews"],
  ])("streams %s (%s) as partial images", async (model) => {
    const stream = await client().images.generate({ model, prompt: `${model} streamed`, stream: true, partial_images: 2 });
    const types = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("image_generation.completed");
    expect(types.filter((type) => type === "image_generation.partial_image").length).toBeGreaterThanOrEqual(1);
  });

  it("streams only the completed image without partial_images, in the chosen format", async () => {
    const stream = await client().images.generate({ model: "test-sdxl", prompt: "no partials", size: "256x256", stream: true, output_format: "webp" });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual(["image_generation.completed"]);
    expect(Buffer.from(events[0]!.b64_json, "base64").toString("latin1", 8, 12)).toBe("WEBP");
    expect(events[0]).toMatchObject({ output_format: "webp" });
  });

  it("streams an edit as image_edit events", async () => {
    const stream = await client().images.edit({
      model: "test-sdxl",
      image: await toFile(redBlue(256), "in.png", { type: "image/png" }),
      prompt: "streamed edit",
      stream: true,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type)).toEqual(["image_edit.completed"]);
    expect(pixelAt(Buffer.from(events[0]!.b64_json, "base64"), 10, 10)).toEqual([0, 255, 255]);
  });

  it("raises a failure after the stream began as the SDK's APIError, from an error event", async () => {
    const stream = await client().images.generate({ model: "test-garbage", prompt: "broken upstream", stream: true });
    const error = await apiErrorOf(
      (async () => {
        for await (const _event of stream) {
          // drain
        }
      })(),
    );
    expect(error.error).toMatchObject({ code: "upstream_invalid_response", type: "upstream_error" });
  });

  it("refuses stream with Prefer: respond-async", async () => {
    const error = await apiErrorOf(client().images.generate({ model: "test-sdxl", prompt: "p", stream: true }, { headers: { prefer: "respond-async" } }));
    expect([error.status, error.param]).toEqual([400, "stream"]);
  });

  it("withdraws the queued job when the caller hangs up mid-stream", async () => {
    // No worker serves the idle stack: the job waits in the queue until the caller leaves.
    const controller = new AbortController();
    const { response } = await openaiClient(suite().stacks.idle)
      .images.generate({ model: "test-single", prompt: "nobody will wait for this", stream: true }, { signal: controller.signal })
      .withResponse();
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const requestId = response.headers.get("x-request-id")!;
    const redis = new Redis(suite().redis.url);
    try {
      const jobKey = `${queuePrefix("it-idle", GENERATE_IMAGE_QUEUE)}:${GENERATE_IMAGE_QUEUE}:${requestId}`;
      // The stream opens before the job is queued: wait until it is.
      for (let attempt = 0; attempt < 50 && (await redis.exists(jobKey)) === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await redis.exists(jobKey)).toBe(1);
      controller.abort();
      let exists = 1;
      for (let attempt = 0; attempt < 50 && exists === 1; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        exists = await redis.exists(jobKey);
      }
      expect(exists).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
