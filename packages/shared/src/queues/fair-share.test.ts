import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { ADMIT, DISPATCH } from "./fair-share-scripts.js";
import {
  addGenerateJobFairly,
  addGenerateJobsFairly,
  createDispatcher,
  createFairShare,
  fairShareKeys,
  type FairEnqueueDeps,
  type FairShare,
} from "./fair-share.js";
import { GENERATE_IMAGE_QUEUE, generateImageJobOptions, JOB_PRIORITY, type GenerateImagePayload, type JobKind } from "./generate-image.js";
import { queuePrefix } from "./prefix.js";

const log = createLogger({ name: "test", level: "silent" });
let redisUrl: string;
let redis: Redis;
let dataDir: string;
let prefixCounter = 0;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shared-fair-share-"));
  redisUrl = (await startRedisServer({ dataDir })).url;
  redis = new Redis(redisUrl);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  redis.disconnect();
  await stopAll();
  await rm(dataDir, { recursive: true, force: true });
});

function payload(workspaceId: string, kind: JobKind, requestId: string): GenerateImagePayload {
  return {
    requestId,
    workspaceId,
    kind,
    model: "sim",
    prompt: "a lighthouse",
    n: 1,
    size: "64x64",
    responseFormat: "url",
    parameters: {},
    deadlineAt: Date.now() + 60_000,
  };
}

/** A fresh queue (own prefix) with fair sharing, as one API or worker process sees it. */
function setup(options: { startingTimeoutMs?: number } = {}) {
  const queue = new Queue(GENERATE_IMAGE_QUEUE, { connection: redis, prefix: queuePrefix(`fair${++prefixCounter}`, GENERATE_IMAGE_QUEUE) });
  cleanups.push(() => queue.close());
  const fairShare = createFairShare({ redis, queue, log, ...options });
  const dispatcher = createDispatcher(fairShare, log);
  const deps: FairEnqueueDeps = { queue, fairShare, dispatcher };
  const add = (workspaceId: string, kind: JobKind, requestId: string) => {
    const data = payload(workspaceId, kind, requestId);
    return addGenerateJobFairly(deps, data, generateImageJobOptions(data));
  };
  const addMany = (workspaceId: string, kind: JobKind, count: number, tag = workspaceId) =>
    addGenerateJobsFairly(
      deps,
      workspaceId,
      kind,
      Array.from({ length: count }, (_, index) => {
        const data = payload(workspaceId, kind, `${tag}-${kind}-${index}`);
        return { data, opts: generateImageJobOptions(data, kind === "batch" ? JOB_PRIORITY.batch + index : undefined) };
      }),
    );
  return { queue, fairShare, dispatcher, add, addMany };
}

/**
 * A real BullMQ worker that runs `concurrency` jobs at once and records the
 * order they start in; it dispatches after each job, as the worker process does.
 */
function startConsumer(queue: Queue, fairShare: FairShare, concurrency: number, workMs = 5) {
  const started: string[] = [];
  const dispatcher = createDispatcher(fairShare, log);
  const worker = new Worker(
    GENERATE_IMAGE_QUEUE,
    async (job: Job<GenerateImagePayload>) => {
      started.push(job.data.requestId);
      await new Promise((resolve) => setTimeout(resolve, workMs));
    },
    { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: queue.opts.prefix!, concurrency },
  );
  worker.on("completed", () => dispatcher.kick());
  worker.on("failed", () => dispatcher.kick());
  cleanups.push(async () => {
    await worker.close();
    await dispatcher.idle();
  });
  return { started, dispatcher };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("fair share", () => {
  it("adds a job as usual when nobody waits and a worker has room, and holds it when no worker is there", async () => {
    const { queue, fairShare, add } = setup();
    await add("acme", "sync", "job-1");
    // No worker has reported yet: nowhere to run it, so it is held (delayed) in its lane.
    expect(await queue.getJobState("job-1")).toBe("delayed");
    expect(await fairShare.queuedByWorkspace()).toEqual(new Map([["acme", 1]]));

    await fairShare.reportCapacity("w1", { own: 4, ceiling: undefined }, 5000);
    await fairShare.dispatchOnce();
    expect(await queue.getJobState("job-1")).toBe("waiting");
    expect(await fairShare.queuedByWorkspace()).toEqual(new Map());

    await add("acme", "sync", "job-2");
    expect(await queue.getJobState("job-2")).toBe("waiting");
  });

  it("keeps at most the slots plus one per worker out of the lanes", async () => {
    const { queue, fairShare, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 3, ceiling: undefined }, 5000);
    await fairShare.reportCapacity("w2", { own: 3, ceiling: 4 }, 5000);
    await addMany("acme", "batch", 20);
    while ((await fairShare.dispatchOnce()) > 0);
    // own 6, global ceiling 4, plus one per live worker (2) = 6 released.
    const counts = await queue.getJobCounts("prioritized", "delayed");
    expect(counts).toEqual({ prioritized: 6, delayed: 14 });
  });

  it("lets a workspace that arrives behind another's flood run at once, then alternates", async () => {
    const { queue, fairShare, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    // Async jobs: one BullMQ priority, so jobs start in the order they were released.
    await addMany("flood", "async", 30);
    const consumer = startConsumer(queue, fairShare, 1);
    await eventually(() => consumer.started.length >= 4);
    await addMany("light", "async", 3);
    const startedWhenHeld = consumer.started.length;
    await eventually(() => consumer.started.filter((id) => id.startsWith("light")).length === 3);
    const order = consumer.started.map((id) => id.split("-")[0]);
    const firstLight = order.indexOf("light");
    // At most two flood jobs were out (one slot + one per worker); then the light workspace takes every other turn.
    expect(firstLight).toBeLessThanOrEqual(startedWhenHeld + 2);
    expect(order.slice(firstLight, firstLight + 5)).toEqual(["light", "flood", "light", "flood", "light"]);
  });

  it("gives slots in proportion to weights while both have work", async () => {
    const { queue, fairShare, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await fairShare.setWeight("heavy", 3);
    await addMany("heavy", "async", 60);
    await addMany("light", "async", 60);
    const consumer = startConsumer(queue, fairShare, 1, 1);
    await eventually(() => consumer.started.length >= 42);
    const window = consumer.started.slice(2, 42).map((id) => id.split("-")[0]);
    expect(window.filter((who) => who === "heavy").length).toBeGreaterThanOrEqual(29);
    expect(window.filter((who) => who === "heavy").length).toBeLessThanOrEqual(31);

    // Weights change at run time: back to 1:1.
    await fairShare.setWeight("heavy", 1);
    const seen = consumer.started.length;
    await eventually(() => consumer.started.length >= seen + 22);
    const after = consumer.started.slice(seen + 2, seen + 22).map((id) => id.split("-")[0]);
    expect(after.filter((who) => who === "heavy").length).toBeGreaterThanOrEqual(9);
    expect(after.filter((who) => who === "heavy").length).toBeLessThanOrEqual(11);
  });

  it("runs a workspace's sync calls before its own queued lines", async () => {
    const { queue, fairShare, dispatcher, add, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await addMany("acme", "batch", 10);
    await dispatcher.idle();
    await add("acme", "async", "acme-async-x");
    await add("acme", "sync", "acme-sync-x");
    const consumer = startConsumer(queue, fairShare, 1);
    await eventually(() => consumer.started.length === 12);
    // The first two lines were out before the consumer started; then sync, then async, then the other lines.
    expect(consumer.started.slice(2, 4)).toEqual(["acme-sync-x", "acme-async-x"]);
  });

  it("never runs a withdrawn job, and places a held one in the fair order", async () => {
    const { queue, fairShare, add, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await addMany("flood", "batch", 20);
    while ((await fairShare.dispatchOnce()) > 0);
    await add("light", "sync", "light-1");
    await add("light", "sync", "light-2");
    // Two released (not started), then light-1 (light joins at the current turn), one of flood's turns, light-2.
    expect(await fairShare.position("light", "light-1")).toBe(3);
    expect(await fairShare.position("light", "light-2")).toBe(5);
    expect(await fairShare.position("flood", "light-1")).toBeUndefined();

    expect(await fairShare.withdraw("light", ["light-1"])).toBe(1);
    await queue.remove("light-1");
    const consumer = startConsumer(queue, fairShare, 1, 1);
    await eventually(() => consumer.started.length === 21);
    expect(consumer.started).not.toContain("light-1");
    expect(consumer.started).toContain("light-2");
  });

  it("waits for a job still being added, and drops lane entries whose job is gone", async () => {
    const { queue, fairShare } = setup();
    const keys = fairShareKeys(queue.opts.prefix!);
    await fairShare.reportCapacity("w1", { own: 2, ceiling: undefined }, 60_000);
    // A producer wrote the lane entry (it waits behind held work) and has not added the job yet.
    await fairShare.hold("acme", "batch", ["first"]);
    expect(await fairShare.admit({ jobId: "late", workspaceId: "acme", kind: "sync" })).not.toBe("direct");
    expect(await fairShare.dispatchOnce()).toBe(0);
    const data = payload("acme", "sync", "late");
    await queue.add(GENERATE_IMAGE_QUEUE, data, { ...generateImageJobOptions(data), delay: 3_600_000 });
    expect(await fairShare.dispatchOnce()).toBe(1);
    expect(await queue.getJobState("late")).toBe("waiting");
    // "first" never came; once its grace is over it is dropped (simulated by ageing its entry).
    await redis.zadd(`${keys.laneBase}acme:batch`, (Date.now() - 60_000) * 1000, "first");
    expect(await fairShare.dispatchOnce()).toBe(0);
    expect(await fairShare.queuedByWorkspace()).toEqual(new Map());
  });

  it("promotes again what a dispatcher picked and never promoted (it died in between)", async () => {
    const { queue, fairShare, addMany } = setup({ startingTimeoutMs: 200 });
    const keys = fairShareKeys(queue.opts.prefix!);
    await addMany("acme", "batch", 3);
    await fairShare.reportCapacity("w1", { own: 2, ceiling: undefined }, 60_000);
    // The pick alone, as a dispatcher that crashed right after it would leave it.
    const picked = await DISPATCH(
      redis,
      [queue.toKey("wait"), queue.toKey("prioritized"), queue.toKey("active"), keys.starting, keys.workers, keys.capacity, keys.active, keys.vtime, keys.weights, queue.toKey("delayed")],
      [keys.laneBase, queue.toKey(""), 64, 10_000, 200],
    );
    expect(picked).toEqual(["acme-batch-0", "acme-batch-1", "acme-batch-2"]);
    expect(await queue.getJobCounts("delayed", "prioritized")).toEqual({ delayed: 3, prioritized: 0 });
    // Room is still taken by the stuck picks, so nothing else goes out meanwhile.
    expect(await fairShare.dispatchOnce()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fairShare.dispatchOnce();
    expect(await queue.getJobCounts("delayed", "prioritized")).toEqual({ delayed: 0, prioritized: 3 });
    expect(await redis.zcard(keys.starting)).toBe(0);
  });

  it("forgets a worker that stopped reporting", async () => {
    const { queue, fairShare } = setup();
    const keys = fairShareKeys(queue.opts.prefix!);
    await fairShare.reportCapacity("gone", { own: 8, ceiling: undefined }, 50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const verdict = await ADMIT(
      redis,
      [queue.toKey("wait"), queue.toKey("prioritized"), queue.toKey("active"), keys.starting, keys.workers, keys.capacity, keys.active, keys.vtime, keys.seq],
      [keys.laneBase, "acme", "sync", "x"],
    );
    expect(verdict).toBe(1);
    expect(await redis.hlen(keys.capacity)).toBe(0);
  });
});
