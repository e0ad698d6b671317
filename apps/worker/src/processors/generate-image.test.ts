import { createLogger, createModelCatalog, decodeFailure, parseModelCatalog, type GenerateImagePayload } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createWorkerMetrics } from "../metrics.js";
import { NoHealthyUpstreamError } from "../upstreams/pool.js";
import type { UpstreamRouter } from "../upstreams/router.js";
import { createGenerateImageProcessor } from "./generate-image.js";
import { JobFailure } from "./job-failure.js";

const log = createLogger({ name: "test", level: "silent" });
const catalog = createModelCatalog(
  parseModelCatalog(`models: [{ id: m, sizes: ["64x64"], max_n: 4, upstreams: [{ name: u, protocol: openai, base_url: "http://u:1" }] }]`, {}).models,
);
const PNG = Buffer.from("89504e470d0a1a0a0000", "hex");

function payload(kind: GenerateImagePayload["kind"], n = 1): GenerateImagePayload {
  return { requestId: "req_1", workspaceId: "ws", kind, model: "m", prompt: "p", n, size: "64x64", responseFormat: "url", parameters: {}, deadlineAt: Date.now() + 60_000 };
}

function fakeJob(data: GenerateImagePayload) {
  const delayedTo: number[] = [];
  const job = {
    id: data.requestId,
    data,
    timestamp: Date.now(),
    processedOn: Date.now(),
    token: "lock-token",
    updateData: async (next: object) => {
      job.data = next as GenerateImagePayload;
    },
    moveToDelayed: async (timestamp: number, token?: string) => {
      expect(token).toBe("lock-token");
      delayedTo.push(timestamp);
    },
  };
  return { job: job as unknown as Job, delayedTo };
}

function fakeStore(failOnIndex?: number) {
  const objects = new Map<string, Buffer>();
  const store: ImageStore = {
    driver: "fs",
    async put(key, body) {
      if (failOnIndex !== undefined && key.endsWith(`-${failOnIndex}.png`)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new Error("disk full");
      }
      objects.set(key, body);
    },
    putFile: async () => {
      throw new Error("not used here");
    },
    get: async (key) => objects.get(key)!,
    delete: async (key) => void objects.delete(key),
    signedUrl: async (key) => key,
    ping: async () => {},
    close: async () => {},
  };
  return { store, objects };
}

const routerThat = (generate: UpstreamRouter["generate"]): UpstreamRouter => ({ generate, usage: () => [], waitingForSlot: () => 0, start: () => {}, close: async () => {} });
const unavailable = routerThat(async () => {
  throw new NoHealthyUpstreamError(Date.now() + 5000);
});

describe("generate-image processor", () => {
  it("fails a sync request at once with 503 upstream_unavailable when no upstream is healthy", async () => {
    const process = createGenerateImageProcessor({ catalog, router: unavailable, store: fakeStore().store, metrics: createWorkerMetrics(), log });
    const error = (await process(fakeJob(payload("sync")).job).catch((reason: unknown) => reason)) as UnrecoverableError;
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(JSON.parse(error.message.replace(/^failure:/, ""))).toMatchObject({ code: "upstream_unavailable", retryAfterSeconds: 5 });
  });

  it("keeps the failure a typed object inside the process, and its encoded form as the reason BullMQ stores for the API", async () => {
    const process = createGenerateImageProcessor({ catalog, router: unavailable, store: fakeStore().store, metrics: createWorkerMetrics(), log });
    const error = await process(fakeJob(payload("sync")).job).catch((reason: unknown) => reason);
    if (!(error instanceof JobFailure)) throw new Error("expected a JobFailure");
    expect(error.failure).toMatchObject({ code: "upstream_unavailable", retryAfterSeconds: 5, param: null });
    expect(decodeFailure(error.message)).toEqual(error.failure);
  });

  it("fails a job whose payload breaks the queue contract as a plain internal error", async () => {
    const process = createGenerateImageProcessor({ catalog, router: unavailable, store: fakeStore().store, metrics: createWorkerMetrics(), log });
    const { job } = fakeJob({ ...payload("sync"), n: 0 });
    const error = await process(job).catch((reason: unknown) => reason);
    if (!(error instanceof JobFailure)) throw new Error("expected a JobFailure");
    expect(error.failure.code).toBe("internal_error");
  });

  it("puts queued work back to wait for recovery instead of failing it, for at most the recovery wait", async () => {
    const process = createGenerateImageProcessor({ catalog, router: unavailable, store: fakeStore().store, metrics: createWorkerMetrics(), log, recoveryWaitMs: 10_000 });
    const { job, delayedTo } = fakeJob(payload("async"));
    await expect(process(job)).rejects.toBeInstanceOf(DelayedError);
    expect(delayedTo[0]).toBeGreaterThan(Date.now() + 4000);
    // Waiting since long enough ago: the next look fails it like a sync call.
    job.data = { ...job.data, upstreamWaitSinceMs: Date.now() - 8000 } as GenerateImagePayload;
    await expect(process(job)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(delayedTo).toHaveLength(1);
  });

  it("fails queued work whose deadline comes before any upstream can recover", async () => {
    const process = createGenerateImageProcessor({ catalog, router: unavailable, store: fakeStore().store, metrics: createWorkerMetrics(), log, recoveryWaitMs: 60_000 });
    const { job, delayedTo } = fakeJob({ ...payload("batch"), deadlineAt: Date.now() + 1000 });
    await expect(process(job)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(delayedTo).toEqual([]);
  });

  it("leaves no stored image behind when storing one image of the request still fails at its deadline", async () => {
    const { store, objects } = fakeStore(2);
    const router = routerThat(async (_card, request) => ({ upstream: "u", images: Array.from({ length: request.n }, () => ({ bytes: PNG, contentType: "image/png" })) }));
    const process = createGenerateImageProcessor({ catalog, router, store, metrics: createWorkerMetrics(), log });
    // Writes are retried until the deadline; a short one keeps the test short.
    const error = (await process(fakeJob({ ...payload("sync", 4), deadlineAt: Date.now() + 600 }).job).catch((reason: unknown) => reason)) as Error;
    expect(error.message).toContain("service_unavailable");
    expect(objects.size).toBe(0);
  });

  it("stores PNG when the upstream answered JPEG and the caller asked for nothing, and the caller's format when asked", async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#123456" } }).jpeg().toBuffer();
    const router = routerThat(async () => ({ upstream: "u", images: [{ bytes: jpeg, contentType: "image/jpeg" }] }));
    const { store, objects } = fakeStore();
    const metrics = createWorkerMetrics();
    const process = createGenerateImageProcessor({ catalog, router, store, metrics, log });
    const plain = await process(fakeJob(payload("sync")).job);
    expect(plain.images[0]).toMatchObject({ contentType: "image/png", key: expect.stringMatching(/\.png$/) });
    expect(objects.get(plain.images[0]!.key)!.subarray(1, 4).toString()).toBe("PNG");
    expect(plain.response).toEqual({ size: "64x64", output_format: "png" });

    const webp = await process(fakeJob({ ...payload("sync"), requestId: "req_2", options: { outputFormat: "webp", outputCompression: 50, quality: "high", safetyIdentifier: "u-1" } }).job);
    expect(webp.images[0]).toMatchObject({ contentType: "image/webp", key: expect.stringMatching(/\.webp$/) });
    expect(objects.get(webp.images[0]!.key)!.subarray(8, 12).toString()).toBe("WEBP");
    expect(webp.response).toEqual({ size: "64x64", output_format: "webp", quality: "high", safety_identifier: "u-1" });
    const counts = (await metrics.transcodeSeconds.get()).values.filter((value) => value.metricName === "imagegen_image_transcode_duration_seconds_count");
    expect(Object.fromEntries(counts.map((value) => [value.labels.format, value.value]))).toEqual({ png: 1, webp: 1 });
  });

  it("reports usage only when the upstream did", async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#123456" } }).png().toBuffer();
    const usage = { input_tokens: 10, output_tokens: 20, total_tokens: 30 };
    const router = routerThat(async () => ({ upstream: "u", images: [{ bytes: png, contentType: "image/png", usage }] }));
    const process = createGenerateImageProcessor({ catalog, router, store: fakeStore().store, metrics: createWorkerMetrics(), log });
    expect((await process(fakeJob(payload("sync")).job)).response?.usage).toEqual(usage);
  });

  it("hands an edit's inputs, read back from storage by key, to the upstream", async () => {
    const { store, objects } = fakeStore();
    const input = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#ff0000" } }).png().toBuffer();
    objects.set("inputs/2026-11-25/ws/req_1-image-0.png", input);
    objects.set("inputs/2026-11-25/ws/req_1-mask.png", PNG);
    const seen: unknown[] = [];
    const router = routerThat(async (_card, request) => {
      seen.push(request.edit);
      return { upstream: "u", images: [{ bytes: input, contentType: "image/png" }] };
    });
    const process = createGenerateImageProcessor({ catalog, router, store, metrics: createWorkerMetrics(), log });
    await process(
      fakeJob({
        ...payload("sync"),
        edit: { images: [{ key: "inputs/2026-11-25/ws/req_1-image-0.png", contentType: "image/png" }], mask: { key: "inputs/2026-11-25/ws/req_1-mask.png", contentType: "image/png" } },
      }).job,
    );
    expect(seen).toEqual([{ images: [{ bytes: input, contentType: "image/png" }], mask: { bytes: PNG, contentType: "image/png" } }]);
  });
});
