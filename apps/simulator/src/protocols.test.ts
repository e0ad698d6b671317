import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { useSimulators, waitFor } from "./test-harness.js";

const start = useSimulators();
const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const pngSize = (base64: string) => {
  const png = PNG.sync.read(Buffer.from(base64.replace(/^data:image\/png;base64,/, ""), "base64"));
  return `${png.width}x${png.height}`;
};
const workflow = (text: string, batch = 1) => ({
  "3": { class_type: "KSampler", inputs: { seed: 5 } },
  "5": { class_type: "EmptyLatentImage", inputs: { width: 16, height: 8, batch_size: batch } },
  "6": { class_type: "CLIPTextEncode", inputs: { text } },
  "9": { class_type: "SaveImage", inputs: { filename_prefix: "x" } },
});

async function comfyHistory(url: string, id: string): Promise<Record<string, { outputs: Record<string, { images: { filename: string }[] }>; status: { status_str: string } }>> {
  for (;;) {
    const history = (await (await fetch(`${url}/history/${id}`)).json()) as Record<string, never>;
    if (Object.keys(history).length > 0) return history;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("AUTOMATIC1111 txt2img", () => {
  it("answers a batch of base64 PNGs of the asked size with info as a JSON string", async () => {
    const { url, sim } = await start();
    const res = await post(url, "/sdapi/v1/txt2img", { prompt: "fox", width: 16, height: 8, batch_size: 2, seed: 3 });
    const body = (await res.json()) as { images: string[]; info: string };
    expect(body.images.map(pngSize)).toEqual(["16x8", "16x8"]);
    expect(JSON.parse(body.info)).toMatchObject({ seed: 3, all_seeds: [3, 4] });
    expect(sim.stats()).toMatchObject({ requests: 1, images: 2, responses: { ok: 1 } });
  });

  it("speaks the WebUI's errors: 422 validation, 500 exceptions, 503 over its slots", async () => {
    const { url } = await start({ faults: { errorRate: 1 } });
    expect((await post(url, "/sdapi/v1/txt2img", { prompt: "fox", width: "wide" })).status).toBe(422);
    const failed = await post(url, "/sdapi/v1/txt2img", { prompt: "fox", width: 8, height: 8 });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: "RuntimeError", errors: expect.stringContaining("CUDA out of memory") });
    const busy = await start({ maxConcurrency: 1, latencyMs: 200 });
    const first = post(busy.url, "/sdapi/v1/txt2img", { prompt: "a", width: 8, height: 8 });
    await waitFor(() => busy.sim.stats().inFlight === 1);
    const second = await post(busy.url, "/sdapi/v1/txt2img", { prompt: "b", width: 8, height: 8 });
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect((await first).status).toBe(200);
  });
});

describe("Replicate Cog predictions", () => {
  it("answers a succeeded prediction with data-URI outputs, 409 when busy, and a health check", async () => {
    const { url, sim } = await start({ maxConcurrency: 1, latencyMs: 150 });
    const first = post(url, "/predictions", { input: { prompt: "fox", width: 16, height: 16, num_outputs: 2 } });
    await waitFor(() => sim.stats().inFlight === 1);
    expect(await (await fetch(`${url}/health-check`)).json()).toMatchObject({ status: "BUSY" });
    const busy = await post(url, "/predictions", { input: { prompt: "fox" } });
    expect(busy.status).toBe(409);
    const body = (await (await first).json()) as { status: string; output: string[] };
    expect(body.status).toBe("succeeded");
    expect(body.output.map(pngSize)).toEqual(["16x16", "16x16"]);
    expect(await (await fetch(`${url}/health-check`)).json()).toMatchObject({ status: "READY" });
  });

  it("reports an injected error as a failed prediction, overload as 429 with Retry-After", async () => {
    const { url, sim } = await start({ faults: { errorRate: 1 } });
    expect(await (await post(url, "/predictions", { input: { prompt: "x", width: 8, height: 8 } })).json()).toMatchObject({ status: "failed", output: null });
    sim.setFaults({ errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 3 });
    const throttled = await post(url, "/predictions", { input: { prompt: "x" } });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("3");
  });
});

describe("ComfyUI prompt queue", () => {
  it("queues a workflow, finishes it in history, and serves its images from /view", async () => {
    // Long enough that the history is still empty when read next, however busy the machine.
    const { url, sim } = await start({ latencyMs: 500 });
    const queued = (await (await post(url, "/prompt", { prompt: workflow("fox", 2), client_id: "c" })).json()) as { prompt_id: string };
    expect(await (await fetch(`${url}/history/${queued.prompt_id}`)).json()).toEqual({});
    const entry = (await comfyHistory(url, queued.prompt_id))[queued.prompt_id]!;
    expect(entry.status.status_str).toBe("success");
    const files = entry.outputs["9"]!.images;
    expect(files).toHaveLength(2);
    const view = await fetch(`${url}/view?filename=${files[0]!.filename}&subfolder=&type=output`);
    expect(PNG.sync.read(Buffer.from(await view.arrayBuffer())).width).toBe(16);
    expect(sim.stats()).toMatchObject({ requests: 1, images: 2, inFlight: 0, maxInFlight: 1 });
  });

  it("queues prompts beyond its slots (counted in maxInFlight) and runs them as slots free", async () => {
    const { url, sim } = await start({ latencyMs: 30, maxConcurrency: 1 });
    const ids = await Promise.all(
      ["a", "b", "c"].map(async (text) => ((await (await post(url, "/prompt", { prompt: workflow(text) })).json()) as { prompt_id: string }).prompt_id),
    );
    const queue = (await (await fetch(`${url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
    expect([queue.queue_running.length, queue.queue_pending.length]).toEqual([1, 2]);
    for (const id of ids) await comfyHistory(url, id);
    expect(sim.stats()).toMatchObject({ maxInFlight: 3, inFlight: 0, responses: { ok: 3 } });
  });

  it("records an execution error in history, and lets a hung prompt be interrupted", async () => {
    const { url, sim } = await start({ faults: { errorRate: 1 } });
    const failed = (await (await post(url, "/prompt", { prompt: workflow("x") })).json()) as { prompt_id: string };
    expect((await comfyHistory(url, failed.prompt_id))[failed.prompt_id]!.status.status_str).toBe("error");
    sim.setFaults({ errorRate: 0, hangRate: 1 });
    const hung = (await (await post(url, "/prompt", { prompt: workflow("y") })).json()) as { prompt_id: string };
    expect(sim.stats().inFlight).toBe(1);
    await post(url, "/interrupt", { prompt_id: hung.prompt_id });
    expect(sim.stats().inFlight).toBe(0);
  });

  it("refuses a workflow without an output node with ComfyUI's 400", async () => {
    const { url } = await start();
    const { "9": _, ...noOutput } = workflow("x");
    const res = await post(url, "/prompt", { prompt: noOutput });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: "prompt_no_outputs" } });
  });
});
