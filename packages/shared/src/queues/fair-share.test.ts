import { useScratchRedis } from "@imagegen/local-services/testing";
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { DISPATCH } from "./fair-share-scripts.js";
import {
  addBatchLinesFairly,
  addGenerateJobFairly,
  createDispatcher,
  createFairShare,
  fairShareKeys,
  type FairEnqueueDeps,
  type FairShare,
} from "./fair-share.js";
import { GENERATE_IMAGE_QUEUE, generateImageJobOptions, JOB_PRIORITY, type GenerateImagePayload, type JobKind } from "./generate-image.js";
import { queuePrefix } from "./prefix.js";

const log = createLogger({ name: "test", level: "silent" });
let redis: Redis;
let prefixCounter = 0;
const cleanups: Array<() => Promise<unknown>> = [];

const scratch = useScratchRedis("shared-fair-share");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => redis.disconnect());

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
/** A clock a second further on at every read: no cached direct admission outlives one call. */
function steppingClock(): () => number {
  let ms = 0;
  return () => (ms += 1000);
}

function setup(options: { startingTimeoutMs?: number; now?: () => number; prefix?: string } = {}) {
  const queue = new Queue(GENERATE_IMAGE_QUEUE, { connection: redis, prefix: options.prefix ?? queuePrefix(`fair${++prefixCounter}`, GENERATE_IMAGE_QUEUE) });
  cleanups.push(() => queue.close());
  const fairShare = createFairShare({ redis, queue, now: steppingClock(), ...options });
  const dispatcher = createDispatcher(fairShare, log);
  const deps: FairEnqueueDeps = { queue, fairShare, dispatcher };
  const add = (workspaceId: string, kind: JobKind, requestId: string) => {
    const data = payload(workspaceId, kind, requestId);
    return addGenerateJobFairly(deps, data, generateImageJobOptions(data));
  };
  /** A batch's lines in one go, or one job after another of another kind. */
  const addMany = async (workspaceId: string, kind: JobKind, count: number, tag = workspaceId) => {
    const requestId = (index: number) => `${tag}-${kind}-${index}`;
    if (kind !== "batch") {
      for (let index = 0; index < count; index++) await add(workspaceId, kind, requestId(index));
      return;
    }
    await addBatchLinesFairly(
      deps,
      workspaceId,
      Array.from({ length: count }, (_, lineIndex) => {
        const data = payload(workspaceId, kind, requestId(lineIndex));
        return { data, opts: generateImageJobOptions(data, JOB_PRIORITY.batch + lineIndex), lineIndex };
      }),
    );
  };
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
    { connection: new Redis(scratch.url, { maxRetriesPerRequest: null }), prefix: queue.opts.prefix!, concurrency },
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

describe("the dispatcher after a job ends", () => {
  /** A dispatch call that answers as told, so the gate's decisions can be followed call by call. */
  function scripted() {
    const answers: Array<{ released: number; stillHeld: boolean }> = [];
    let calls = 0;
    let onCall: (() => void) | undefined;
    return {
      answers,
      calls: () => calls,
      during: (action: () => void) => (onCall = action),
      dispatchOnce: async () => {
        calls++;
        onCall?.();
        onCall = undefined;
        return answers.shift() ?? { released: 0, stillHeld: false };
      },
    };
  }

  it("skips the call while nothing is held, and resumes at the word that something is", async () => {
    const script = scripted();
    const dispatcher = createDispatcher(script, log);
    dispatcher.kickIfHeld(); // nothing known yet: assume held
    await dispatcher.idle();
    expect(script.calls()).toBe(1);
    dispatcher.kickIfHeld();
    await dispatcher.idle();
    expect(script.calls()).toBe(1);
    dispatcher.heldSignal();
    dispatcher.kickIfHeld();
    await dispatcher.idle();
    expect(script.calls()).toBe(2);
  });

  it("keeps a word of held work that arrives while a call is out, even if its answer says none", async () => {
    const script = scripted();
    const dispatcher = createDispatcher(script, log);
    script.during(() => dispatcher.heldSignal());
    dispatcher.kick();
    await dispatcher.idle();
    dispatcher.kickIfHeld();
    await dispatcher.idle();
    expect(script.calls()).toBe(2);
  });
});

describe("fair share", () => {
  it("adds a job as usual when nobody waits and a worker has room, and holds it when there is none", async () => {
    const { queue, fairShare, add } = setup();
    // No worker reports (none yet, or only older versions in a rolling upgrade): nothing is held.
    await add("acme", "sync", "job-0");
    expect(await queue.getJobState("job-0")).toBe("waiting");

    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 5000);
    await add("acme", "sync", "job-1");
    expect(await queue.getJobState("job-1")).toBe("waiting");
    // One slot plus one for the worker are out: the next one waits in its lane (a delayed job).
    await add("acme", "sync", "job-2");
    expect(await queue.getJobState("job-2")).toBe("delayed");
    expect(await fairShare.queuedByWorkspace()).toEqual(new Map([["acme", 1]]));

    await queue.remove("job-0");
    await fairShare.dispatchOnce();
    expect(await queue.getJobState("job-2")).toBe("waiting");
    expect(await fairShare.queuedByWorkspace()).toEqual(new Map());
  });

  it("admits the next few jobs of a process directly for a moment after a direct verdict, without asking again", async () => {
    let clockMs = 0;
    const cached = setup({ now: () => clockMs });
    const replica = setup({ prefix: cached.queue.opts.prefix! });
    await cached.fairShare.reportCapacity("w1", { own: 8, ceiling: undefined }, 60_000);
    const admit = (jobId: string, who = cached) => who.fairShare.admit({ jobId, workspaceId: "acme", kind: "sync" });
    // Room for 9, none out: spare 8 after this one, so half of it, 4, may go without asking.
    expect(await admit("a")).toEqual({ verdict: "direct", counted: true });
    // Another replica holds work meanwhile: this process does not know yet.
    await replica.addMany("other", "batch", 20);
    for (const jobId of ["b", "c", "d", "e"]) expect(await admit(jobId)).toEqual({ verdict: "direct", counted: false });
    // Its allowance spent, it asks, and waits its turn behind the held work.
    expect(await admit("f")).toEqual({ verdict: "held" });
  });

  it("asks again once the moment after a direct verdict has passed", async () => {
    let clockMs = 0;
    const cached = setup({ now: () => clockMs });
    const replica = setup({ prefix: cached.queue.opts.prefix! });
    await cached.fairShare.reportCapacity("w1", { own: 8, ceiling: undefined }, 60_000);
    expect(await cached.fairShare.admit({ jobId: "a", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "direct", counted: true });
    clockMs += 25;
    await replica.addMany("other", "batch", 20);
    expect(await cached.fairShare.admit({ jobId: "b", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "held" });
  });

  it("counts a burst of arrivals against the room before their jobs are added", async () => {
    const { fairShare } = setup();
    await fairShare.reportCapacity("w1", { own: 2, ceiling: undefined }, 5000);
    const admissions = await Promise.all(Array.from({ length: 10 }, (_, index) => fairShare.admit({ jobId: `burst-${index}`, workspaceId: "acme", kind: "sync" })));
    // Room for three (two slots, one per worker); the others wait their turn.
    expect(admissions.filter((admission) => admission.verdict === "direct")).toHaveLength(3);
  });

  it("keeps at most the slots plus a few per worker (one per 8 of its jobs) out of the lanes", async () => {
    const { queue, fairShare, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 3, ceiling: undefined }, 5000);
    await fairShare.reportCapacity("w2", { own: 3, ceiling: 4 }, 5000);
    await addMany("acme", "batch", 40);
    while ((await fairShare.dispatchOnce()).released > 0);
    // own 6, global ceiling 4, plus one for each live worker (2) = 6 released.
    expect(await queue.getJobCounts("prioritized", "delayed")).toEqual({ prioritized: 6, delayed: 34 });
    // With a worker that runs 17 jobs at once and the ceiling lifted: 3 + 3 + 17 slots, plus 1 + 1 + 3.
    await fairShare.reportCapacity("w3", { own: 17, ceiling: undefined }, 5000);
    await fairShare.reportCapacity("w2", { own: 3, ceiling: 100 }, 5000);
    while ((await fairShare.dispatchOnce()).released > 0);
    expect(await queue.getJobCounts("prioritized", "delayed")).toEqual({ prioritized: 28, delayed: 12 });
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
    // Turns alternate; two dispatchers' promotions may land in either order, so allow one place of slack.
    expect(order.slice(firstLight, firstLight + 6).filter((who) => who === "light")).toHaveLength(3);
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

  it("interleaves a workspace's small batch with its big one by line index, as BullMQ priorities did", async () => {
    const { queue, fairShare, dispatcher, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await addMany("acme", "batch", 40, "big");
    await dispatcher.idle();
    await addMany("acme", "batch", 3, "small");
    const consumer = startConsumer(queue, fairShare, 1, 1);
    await eventually(() => consumer.started.filter((id) => id.startsWith("small")).length === 3);
    // Lines 0-1 of the big batch were out; then big and small lines of the same index take turns
    // (the consumer goes on with the big batch while this test looks, so count up to the last small line).
    const lastSmall = Math.max(...consumer.started.map((id, place) => (id.startsWith("small") ? place : -1)));
    expect(lastSmall + 1).toBeLessThanOrEqual(2 + 6);
  });

  it("never runs a withdrawn job, and places a held one in the fair order", async () => {
    const { queue, fairShare, add, addMany } = setup();
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await addMany("flood", "batch", 20);
    while ((await fairShare.dispatchOnce()).released > 0);
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
    const { queue, fairShare, addMany } = setup();
    const keys = fairShareKeys(queue.opts.prefix!);
    await fairShare.reportCapacity("w1", { own: 2, ceiling: undefined }, 60_000);
    await fairShare.reportCapacity("w2", { own: 0, ceiling: 0 }, 60_000);
    // With no slots at all (ceiling 0), two jobs may be out: one per worker.
    await addMany("acme", "batch", 4);
    while ((await fairShare.dispatchOnce()).released > 0);
    // A producer wrote the lane entry of a sync call and has not added the job yet.
    expect(await fairShare.admit({ jobId: "late", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "held" });
    await queue.remove("acme-batch-0");
    // The workspace's head is that sync call: it waits for it rather than skipping it.
    expect((await fairShare.dispatchOnce()).released).toBe(0);
    const data = payload("acme", "sync", "late");
    await queue.add(GENERATE_IMAGE_QUEUE, data, { ...generateImageJobOptions(data), delay: 3_600_000 });
    expect((await fairShare.dispatchOnce()).released).toBe(1);
    expect(await queue.getJobState("late")).toBe("waiting");

    // An entry whose job never came (its producer died) is dropped once its grace is over (simulated by ageing it).
    await queue.remove("acme-batch-1");
    await queue.remove("late");
    expect(await fairShare.admit({ jobId: "ghost", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "held-dispatch" });
    await redis.zadd(`${keys.laneBase}acme:sync`, (Date.now() - 60_000) * 1000, "ghost");
    expect((await fairShare.dispatchOnce()).released).toBe(2);
    expect(await redis.zscore(`${keys.laneBase}acme:sync`, "ghost")).toBeNull();
    expect(await queue.getJobState("acme-batch-3")).toBe("prioritized");
  });

  it("promotes again what a dispatcher picked and never promoted (it died in between)", async () => {
    const { queue, fairShare } = setup({ startingTimeoutMs: 200 });
    const keys = fairShareKeys(queue.opts.prefix!);
    await fairShare.reportCapacity("w1", { own: 2, ceiling: undefined }, 60_000);
    // Held without a dispatch, as a producer leaves them before anyone releases them.
    const ids = ["acme-batch-0", "acme-batch-1", "acme-batch-2"];
    for (const id of ids) {
      const data = payload("acme", "batch", id);
      await queue.add(GENERATE_IMAGE_QUEUE, data, { ...generateImageJobOptions(data), delay: 3_600_000 });
    }
    await fairShare.hold("acme", "batch", ids.map((jobId, order) => ({ jobId, order })));
    // The pick alone, as a dispatcher that crashed right after it would leave it.
    const picked = await DISPATCH(
      redis,
      [queue.toKey("wait"), queue.toKey("prioritized"), queue.toKey("active"), keys.starting, keys.workers, keys.capacity, keys.active, keys.vtime, keys.weights, queue.toKey("delayed")],
      [keys.laneBase, queue.toKey(""), 64, 10_000, 200],
    );
    expect(picked).toEqual([["acme-batch-0", "acme-batch-1", "acme-batch-2"], 0]);
    expect(await queue.getJobCounts("delayed", "prioritized")).toEqual({ delayed: 3, prioritized: 0 });
    // Room is still taken by the stuck picks, so nothing else goes out meanwhile.
    expect((await fairShare.dispatchOnce()).released).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fairShare.dispatchOnce();
    expect(await queue.getJobCounts("delayed", "prioritized")).toEqual({ delayed: 0, prioritized: 3 });
    expect(await redis.zcard(keys.starting)).toBe(0);
  });

  it("says on its channel when the first workspace starts holding work, and only then", async () => {
    const { queue, fairShare, addMany } = setup();
    const keys = fairShareKeys(queue.opts.prefix!);
    const subscriber = new Redis(scratch.url);
    cleanups.push(async () => subscriber.disconnect());
    const words: string[] = [];
    subscriber.on("message", (channel: string) => words.push(channel));
    await subscriber.subscribe(keys.heldChannel);
    await fairShare.reportCapacity("w1", { own: 1, ceiling: undefined }, 60_000);
    await addMany("first", "batch", 5);
    await addMany("second", "batch", 5);
    await eventually(() => words.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(words).toEqual([keys.heldChannel]);
    // The dispatch answer says work is still held, then, once the lanes are empty, that none is.
    expect((await fairShare.dispatchOnce()).stillHeld).toBe(true);
    await fairShare.withdraw("first", Array.from({ length: 5 }, (_, index) => `first-batch-${index}`));
    await fairShare.withdraw("second", Array.from({ length: 5 }, (_, index) => `second-batch-${index}`));
    expect((await fairShare.dispatchOnce()).stillHeld).toBe(false);
  });

  it("forgets a worker that stopped reporting", async () => {
    const { fairShare, queue } = setup();
    const keys = fairShareKeys(queue.opts.prefix!);
    await fairShare.reportCapacity("alive", { own: 0, ceiling: undefined }, 60_000);
    await fairShare.reportCapacity("gone", { own: 8, ceiling: undefined }, 50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Only the live worker counts: no slots, room for the one job it may fetch.
    expect(await fairShare.admit({ jobId: "x", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "direct", counted: true });
    expect(await fairShare.admit({ jobId: "y", workspaceId: "acme", kind: "sync" })).toEqual({ verdict: "held" });
    expect(await redis.hget(keys.capacity, "gone")).toBeNull();
  });
});
