import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import {
  createBatchRecords,
  createGenerationRecords,
  createLogger,
  createRedisConnection,
  ServiceError,
  type GenerateImagePayload,
  type RedisClient,
  type WebhookEmitter,
} from "@imagegen/shared";
import { Queue, type Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenerateImage } from "./generate-image.js";
import { JobFailure } from "./job-failure.js";
import { withOutcomeRecording } from "./record-outcome.js";

/** Real generation records in a real redis-server; the generation itself is a stand-in. */
let connection: RedisClient;
let dataDir: string;
let queue: Queue;
const prefix = "record-outcome-test";
const log = createLogger({ name: "test", level: "silent" });
const ended: string[] = [];
const webhooks: WebhookEmitter = {
  generationEnded: async (id, type) => void ended.push(`${id} ${type}`),
  batchEnded: async (id, type) => void ended.push(`${id} ${type}`),
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "record-outcome-"));
  const server = await startRedisServer({ dataDir });
  connection = createRedisConnection(server.url, "consumer");
  queue = new Queue("record-outcome", { connection, prefix });
}, 30_000);
afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await stopAll();
  await rm(dataDir, { recursive: true, force: true });
});

const generations = () => createGenerationRecords(connection, prefix);
const recorded = (generate: GenerateImage) =>
  withOutcomeRecording(generate, { generations: generations(), batches: createBatchRecords(connection, prefix), batchesQueue: queue, webhooks, log });

let counter = 0;
async function retainedJob(): Promise<{ job: Job; payload: GenerateImagePayload }> {
  const requestId = `gen_test${++counter}`;
  const payload: GenerateImagePayload = {
    requestId,
    workspaceId: "ws",
    kind: "async",
    model: "m",
    prompt: "p",
    n: 1,
    size: "64x64",
    responseFormat: "url",
    parameters: {},
    deadlineAt: Date.now() + 60_000,
    retain: true,
  };
  await generations().create({ id: requestId, workspace: "ws", model: "m", responseFormat: "url" });
  return { job: await queue.add("generate", payload, { jobId: requestId }), payload };
}

describe("outcome recording of retained generations", () => {
  it("records the failure the generation threw, as the same object, with its Retry-After", async () => {
    const { job, payload } = await retainedJob();
    const thrown = new JobFailure(new ServiceError("upstream_unavailable", undefined, { retryAfterSeconds: 7 }));
    await expect(recorded(async () => Promise.reject(thrown))(job, payload)).rejects.toBe(thrown);
    const record = await generations().get(payload.requestId);
    expect(record).toMatchObject({ status: "failed" });
    expect(record?.error).toEqual(thrown.failure);
    expect(ended).toContain(`${payload.requestId} image.generation.failed`);
  });

  it("records anything else that escaped the generation as a plain internal error", async () => {
    const { job, payload } = await retainedJob();
    await expect(recorded(async () => Promise.reject(new Error("bug")))(job, payload)).rejects.toThrow("bug");
    expect((await generations().get(payload.requestId))?.error).toMatchObject({ code: "internal_error", param: null });
  });

  it("skips a job cancelled while it was queued: nothing runs and it returns null", async () => {
    const { job, payload } = await retainedJob();
    await generations().cancel(payload.requestId);
    let ran = false;
    const result = await recorded(async () => {
      ran = true;
      throw new Error("must not run");
    })(job, payload);
    expect(result).toBeNull();
    expect(ran).toBe(false);
  });
});
