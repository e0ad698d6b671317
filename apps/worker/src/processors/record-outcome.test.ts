import { useScratchRedis } from "@imagegen/local-services/testing";
import {
  createBatchRecords,
  createGenerationRecords,
  createLogger,
  createRedisConnection,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
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
let queue: Queue;
const prefix = "record-outcome-test";
const log = createLogger({ name: "test", level: "silent" });
const ended: string[] = [];
const webhooks: WebhookEmitter = {
  generationEnded: async (id, type) => void ended.push(`${id} ${type}`),
  batchEnded: async (id, type) => void ended.push(`${id} ${type}`),
};

const scratch = useScratchRedis("record-outcome");
beforeAll(() => {
  connection = createRedisConnection(scratch.url, "consumer");
  queue = new Queue("record-outcome", { connection, prefix });
});
afterAll(async () => {
  await queue.close();
  connection.disconnect();
});

const generations = () => createGenerationRecords(connection, prefix);
const recorded = (generate: GenerateImage) =>
  withOutcomeRecording(generate, { generations: generations(), batches: createBatchRecords(connection, prefix), batchesQueue: queue, webhooks, log });

/** A queued generation's payload; `kind` and what makes it retained or a batch line on top. */
function payloadOf(requestId: string, extra: Partial<GenerateImagePayload>): GenerateImagePayload {
  return {
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
    ...extra,
  };
}

let counter = 0;
async function retainedJob(): Promise<{ job: Job; payload: GenerateImagePayload }> {
  const requestId = `gen_test${++counter}`;
  const payload = payloadOf(requestId, { retain: true });
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

describe("outcome recording of batch lines", () => {
  const batches = () => createBatchRecords(connection, prefix);
  const result: GenerateImageResult = { created: 1, upstream: "u", images: [], response: { size: "64x64", output_format: "png" } };
  let batchCounter = 0;

  /** A running batch of two lines and the job of its first line. */
  async function batchLine(): Promise<{ batchId: string; job: Job; payload: GenerateImagePayload }> {
    const batchId = `batch_gate${++batchCounter}`;
    await batches().create({ id: batchId, workspace: "ws", inputFileId: "file-x", endpoint: "/v1/images/generations", completionWindow: "24h", expiresAt: 2_000_000_000 });
    await batches().startRunning(batchId, 2);
    const payload = payloadOf(`${batchId}-0`, { kind: "batch", batch: { batchId, lineIndex: 0, customId: "first" } });
    return { batchId, job: await queue.add("generate", payload, { jobId: payload.requestId }), payload };
  }

  /** Runs the line once; says whether the generation ran. */
  async function run(line: { job: Job; payload: GenerateImagePayload }): Promise<boolean> {
    let ran = false;
    await recorded(async () => {
      ran = true;
      return result;
    })(line.job, line.payload);
    return ran;
  }

  const outcomeOf = async (batchId: string) => JSON.parse((await batches().readLines(batchId, 0, 1))[0] ?? "null");

  it("runs a line once: run again after a crash, it finds its outcome recorded and does not reach a GPU twice", async () => {
    const line = await batchLine();
    expect(await run(line)).toBe(true);
    expect(await run(line)).toBe(false);
    expect(await outcomeOf(line.batchId)).toMatchObject({ outcome: "succeeded", custom_id: "first" });
    expect(await batches().get(line.batchId)).toMatchObject({ completed: 1, skipped: 0 });
  });

  it.each([
    ["cancelled", (batchId: string) => batches().transition(batchId, "cancelling", ["in_progress"]), "batch_cancelled"],
    ["expiring", (batchId: string) => batches().requestExpiry(batchId), "batch_expired"],
  ])("skips a line of a %s batch without running it, counted as skipped", async (_state, change, reason) => {
    const line = await batchLine();
    await change(line.batchId);
    expect(await run(line)).toBe(false);
    expect(await outcomeOf(line.batchId)).toMatchObject({ outcome: "skipped", custom_id: "first", reason });
    expect(await batches().get(line.batchId)).toMatchObject({ completed: 0, skipped: 1 });
  });
});
