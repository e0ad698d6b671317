import { useScratchRedis } from "@imagegen/local-services/testing";
import { createFairShare, GENERATE_IMAGE_QUEUE, queuePrefix, type GenerateImagePayload } from "@imagegen/shared";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter, type LimitSubject } from "../rate-limit.js";
import { bullGenerationJobQueue } from "./job-queue.js";

// Admission and the add in one round trip, against a real Redis and BullMQ:
// what stops a refused request's add is BullMQ's deduplication key, which
// the admission script sets. These tests fail if BullMQ changes where that
// key lives or what an existing one does to an add.

let redis: Redis;
let prefixCounter = 0;
const queues: Queue[] = [];

const scratch = useScratchRedis("api-admission-gate");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(async () => {
  await Promise.all(queues.map((queue) => queue.close()));
  redis.disconnect();
});

function payload(requestId: string): GenerateImagePayload {
  return {
    requestId,
    workspaceId: "acme",
    kind: "sync",
    model: "sim",
    prompt: "a lighthouse",
    n: 1,
    size: "64x64",
    responseFormat: "url",
    parameters: {},
    deadlineAt: Date.now() + 60_000,
  };
}

/** The API's wiring on one connection: the limiter, and the queue with or without fair sharing in between. */
function setup(fairSharing: boolean) {
  const prefix = `gate${++prefixCounter}`;
  const queue = new Queue(GENERATE_IMAGE_QUEUE, { connection: redis, prefix: queuePrefix(prefix, GENERATE_IMAGE_QUEUE) });
  queues.push(queue);
  // A clock a second on at every read: each add asks the fair-share script, one more round trip between admission and add.
  let ms = 0;
  const fairShare = createFairShare({ redis, queue, now: () => (ms += 1000) });
  const jobQueue = bullGenerationJobQueue({ queue, fairShare: fairSharing ? fairShare : undefined, dispatcher: undefined }, fairShare, { gated: true });
  const limiter = createRateLimiter({ redis, prefix, defaultRequestsPerMinute: 0 });
  const subject: LimitSubject = { workspaceId: "acme", workspaceLimits: { requests_per_minute: 1, concurrent_generations: 5 } };

  /** As the generation service sends them: the admission, then the add at once, then both answers. */
  async function submit(requestId: string) {
    const gate = jobQueue.admissionGate!(requestId)!;
    const admission = limiter.admit(subject, { requestId, images: 1, leaseMs: 30_000, gate });
    const enqueued = jobQueue.enqueue(payload(requestId), gate);
    return { admission: await admission, enqueued: await enqueued, gate };
  }
  return { queue, jobQueue, submit };
}

describe.each([
  ["without fair sharing", false],
  ["with a fair-share round trip in between", true],
])("admission and add in one round trip, %s", (_name, fairSharing) => {
  it("adds the admitted request's job and nothing for the refused one", async () => {
    const { queue, submit } = setup(fairSharing);
    // What the order rests on: BullMQ sends its add on the connection it was given (through a proxy), not a copy of it.
    expect(((await queue.client) as unknown as Redis).stream).toBe(redis.stream);

    const admitted = await submit("req-admitted");
    expect(admitted.admission.admitted).toBe(true);
    expect(admitted.enqueued).toEqual({ added: true });
    expect(await queue.getJob("req-admitted")).toMatchObject({ id: "req-admitted" });
    // Redis keeps nothing per admitted request: BullMQ's key for the job lapses at once.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await redis.exists(admitted.gate.key)).toBe(0);

    const refused = await submit("req-refused");
    expect(refused.admission.admitted).toBe(false);
    expect(refused.admission.admitted === false && refused.admission.error.code).toBe("rate_limited");
    expect(refused.enqueued).toEqual({ added: false });
    expect(await queue.getJob("req-refused")).toBeUndefined();
    // One job in the queue, the admitted one (waiting, or delayed when fair sharing held it: no worker reported room).
    const counts = await queue.getJobCounts("waiting", "delayed", "prioritized", "active");
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(1);
    // The refusal's mark lapses by itself.
    const ttl = await redis.pttl(refused.gate.key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(refused.gate.ttlMs);
  });

  it("keeps the order after Redis lost its scripts: the admission never comes back as NOSCRIPT behind the add", async () => {
    const { queue, jobQueue, submit } = setup(fairSharing);
    await submit("req-first");
    await redis.script("FLUSH");
    // BullMQ's own scripts come back with an add of another job; the admission's would come back only on its first use.
    await jobQueue.enqueue(payload("req-other"));
    const refused = await submit("req-after-flush");
    expect(refused.admission.admitted).toBe(false);
    expect(refused.enqueued).toEqual({ added: false });
    expect(await queue.getJob("req-after-flush")).toBeUndefined();
  });
});

