import { Job, type JobsOptions, type Queue } from "bullmq";
import type { Logger } from "../logger.js";
import type { RedisClient } from "../redis.js";
import { DEFAULT_WORKSPACE_WEIGHT } from "../workspaces/records.js";
import { queuePrefix } from "./prefix.js";
import { ADMIT, DISPATCH, HOLD, POSITION, QUEUED, REPORT, WITHDRAW } from "./fair-share-scripts.js";
import { GENERATE_IMAGE_QUEUE, type GenerateImagePayload, type JobKind } from "./generate-image.js";

/**
 * Weighted fair sharing of the GPUs between workspaces.
 *
 * Every generate-image job is a BullMQ job from the moment it is accepted
 * (stable id, state, removal), but while others wait it is added *delayed*
 * and its id is put in its workspace's lane for its kind. Dispatchers (every
 * worker after each job, and whoever holds new work while there is room)
 * release jobs from the lanes in weighted fair order by promoting them, so
 * that at most the GPU slots plus a few jobs per worker are out of the lanes.
 * Which job runs next is thereby decided here, in Redis, whatever the number
 * of API replicas and workers; BullMQ keeps doing the rest (locks, stalled
 * jobs, retries, events).
 *
 * Order: workspaces take turns by start-time fair queueing (each gets slots
 * in proportion to its weight while it has work waiting; an idle one's share
 * goes to the others). Within a workspace, its sync calls go before its async
 * jobs, which go before its batch lines. Once released, sync calls (BullMQ's
 * plain wait list) still go before queued work (its prioritized set).
 *
 * When nothing is held and there is room, a job is added as usual (one
 * script call is the whole cost), so an unloaded service behaves as before.
 *
 * Keys (in the generate-image queue's hash slot, `{prefix}:{generate-image}:fair:*`):
 *   lane:{workspace}:{kind}  ZSET job id → hold time * 1000 + sequence (a batch line: its index)
 *   active                    ZSET workspace with held work → pass (virtual time)
 *   vtime                     STRING pass of the last job released
 *   weights                   HASH workspace → weight (absent: 1)
 *   starting                  ZSET job id picked but not yet promoted → Redis ms
 *   workers / capacity        ZSET worker → report expiry; HASH worker → `{own}:{ceiling}`
 *   seq                       STRING counter for FIFO ties within a millisecond
 */

/**
 * How long a held job stays delayed in BullMQ. Dispatchers release it long
 * before; this only bounds how long a job could wait if no dispatcher ever
 * ran again (BullMQ then promotes it itself). Longer than any job's lifetime.
 */
export const HELD_JOB_DELAY_MS = 7 * 24 * 3600 * 1000;

/** A job picked from a lane but not promoted after this long is promoted again (its dispatcher died). */
const STARTING_TIMEOUT_MS = 5000;

/** A lane entry whose job does not exist yet is waited for this long (its producer is still adding it). */
const ADD_GRACE_MS = 10_000;

/** Most jobs one dispatch call releases: bounds the time a script holds Redis. */
const DISPATCH_BATCH = 64;

/**
 * `direct`: add the job as usual (`counted`: it holds a place in the room
 * until `added` says it is on the queue); `held`: in its lane, released in its
 * turn; `held-dispatch`: held while there is room: dispatch now.
 */
/** What one dispatch call did: jobs released, and whether any workspace still holds work. */
export interface DispatchResult {
  released: number;
  stillHeld: boolean;
}

export type Admission = { verdict: "direct"; counted: boolean } | { verdict: "held" | "held-dispatch" };

/**
 * After a script said nobody waits and there was room, this process admits
 * the next few jobs directly without asking again for this long: the
 * unloaded path then costs no round trip of its own. The price is bounded:
 * work another replica starts holding meanwhile can see at most
 * MAX_CACHED_DIRECT jobs of this process go ahead of it, within room that was
 * free (at most half of what the script saw spare).
 */
const DIRECT_CACHE_MS = 20;
const MAX_CACHED_DIRECT = 16;

export interface FairShare {
  /** How a new job enters: as usual (`direct`), or held in its lane; `held-dispatch` means there is room: dispatch now. */
  admit(job: { jobId: string; workspaceId: string; kind: JobKind }): Promise<Admission>;
  /** A job admitted `direct` is on the queue now (it counted as starting until then). */
  added(jobId: string): Promise<void>;
  /**
   * Holds jobs of one workspace and kind that are already added (delayed), each
   * at its `order` in the lane (a batch line's index); true when there is room to dispatch now.
   */
  hold(workspaceId: string, kind: JobKind, jobs: ReadonlyArray<{ jobId: string; order: number }>): Promise<boolean>;
  /** Releases jobs in fair order while there is room; returns how many were released. */
  dispatchOnce(): Promise<DispatchResult>;
  /** Takes jobs out of the lanes; returns how many were held. */
  withdraw(workspaceId: string, jobIds: readonly string[]): Promise<number>;
  /** A held job's estimated 1-based place in the fair order, or undefined when it is not held. */
  position(workspaceId: string, jobId: string): Promise<number | undefined>;
  /** Jobs held per workspace that has any. */
  queuedByWorkspace(): Promise<Map<string, number>>;
  /** A worker's report of the jobs it can run at once (`own`) and the global cap it shares (`ceiling`). */
  reportCapacity(workerId: string, report: { own: number; ceiling: number | undefined }, ttlMs: number): Promise<void>;
  setWeight(workspaceId: string, weight: number): Promise<void>;
}

/** Reported when there is no global cap: larger than any fleet. */
const NO_CEILING = 1_000_000_000;

/** Keys from the generate-image queue's BullMQ prefix (`{prefix}:{generate-image}`); they sit beside BullMQ's in its slot. */
export function fairShareKeys(generateQueuePrefix: string) {
  const base = `${generateQueuePrefix}:fair`;
  return {
    laneBase: `${base}:lane:`,
    active: `${base}:active`,
    vtime: `${base}:vtime`,
    weights: `${base}:weights`,
    starting: `${base}:starting`,
    workers: `${base}:workers`,
    capacity: `${base}:capacity`,
    seq: `${base}:seq`,
    /** Pub/sub: published when the first workspace starts holding work (nothing was held before). */
    heldChannel: `${base}:held`,
  };
}

export function createFairShare(deps: {
  redis: RedisClient;
  /** The generate-image queue. */
  queue: Queue;
  /** Tests shorten it; see STARTING_TIMEOUT_MS. */
  startingTimeoutMs?: number;
  /** Monotonic ms, for the direct-admission cache; tests move it. */
  now?: () => number;
}): FairShare {
  const { redis, queue } = deps;
  const startingTimeoutMs = deps.startingTimeoutMs ?? STARTING_TIMEOUT_MS;
  // Our queues always have a prefix (queuePrefix); "bull" is BullMQ's own default.
  const keys = fairShareKeys(queue.opts.prefix ?? "bull");
  const capacityKeys = [queue.toKey("wait"), queue.toKey("prioritized"), queue.toKey("active"), keys.starting, keys.workers, keys.capacity];
  const now = deps.now ?? (() => performance.now());
  let directUntilMs = 0;
  let directLeft = 0;

  async function promote(jobId: string): Promise<void> {
    try {
      await new Job(queue, GENERATE_IMAGE_QUEUE, {}, {}, jobId).promote();
    } catch {
      // Not delayed any more (promoted by a dispatcher whose answer was lost, withdrawn, or gone): nothing to do.
    }
  }

  return {
    async admit({ jobId, workspaceId, kind }) {
      if (directLeft > 0 && now() < directUntilMs) {
        directLeft--;
        return { verdict: "direct", counted: false };
      }
      const reply = await ADMIT(redis, [...capacityKeys, keys.active, keys.vtime, keys.seq], [keys.laneBase, workspaceId, kind, jobId, keys.heldChannel]);
      const [verdict, spare] = Array.isArray(reply) ? reply.map(Number) : [1, 0];
      if (verdict === 0) {
        directLeft = Math.min(MAX_CACHED_DIRECT, Math.floor((spare ?? 0) / 2));
        directUntilMs = now() + DIRECT_CACHE_MS;
        return { verdict: "direct", counted: true };
      }
      directLeft = 0;
      return { verdict: verdict === 2 ? "held-dispatch" : "held" };
    },
    async added(jobId) {
      await redis.zrem(keys.starting, jobId);
    },
    async hold(workspaceId, kind, jobs) {
      if (jobs.length === 0) return false;
      const pairs = jobs.flatMap((job) => [job.order, job.jobId]);
      return Number(await HOLD(redis, [...capacityKeys, keys.active, keys.vtime], [keys.laneBase, workspaceId, kind, keys.heldChannel, ...pairs])) === 1;
    },
    async dispatchOnce() {
      const reply = await DISPATCH(
        redis,
        [...capacityKeys, keys.active, keys.vtime, keys.weights, queue.toKey("delayed")],
        [keys.laneBase, queue.toKey(""), DISPATCH_BATCH, ADD_GRACE_MS, startingTimeoutMs],
      );
      const [picked, holding] = Array.isArray(reply) ? reply : [];
      const ids = Array.isArray(picked) ? picked.map(String) : [];
      const stillHeld = Number(holding) > 0;
      if (ids.length === 0) return { released: 0, stillHeld };
      // Sent together: on one connection Redis runs the ZREM after the promotions, when
      // the jobs count in BullMQ's own lists (a promotion that fails had nothing to promote).
      await Promise.all([...ids.map(promote), redis.zrem(keys.starting, ...ids)]);
      return { released: ids.length, stillHeld };
    },
    async withdraw(workspaceId, jobIds) {
      if (jobIds.length === 0) return 0;
      return Number(await WITHDRAW(redis, [keys.active], [keys.laneBase, workspaceId, ...jobIds]));
    },
    async position(workspaceId, jobId) {
      const place = Number(await POSITION(redis, [queue.toKey("wait"), queue.toKey("prioritized"), keys.active, keys.weights, keys.vtime], [keys.laneBase, workspaceId, jobId]));
      return place > 0 ? place : undefined;
    },
    async queuedByWorkspace() {
      const flat = await QUEUED(redis, [keys.active], [keys.laneBase]);
      const queued = new Map<string, number>();
      if (!Array.isArray(flat)) return queued;
      for (let i = 0; i + 1 < flat.length; i += 2) queued.set(String(flat[i]), Number(flat[i + 1]));
      return queued;
    },
    async reportCapacity(workerId, report, ttlMs) {
      const own = Math.max(0, Math.floor(report.own));
      const ceiling = report.ceiling === undefined ? NO_CEILING : Math.max(0, Math.floor(report.ceiling));
      await REPORT(redis, [keys.workers, keys.capacity], [workerId, own, ceiling, ttlMs]);
    },
    setWeight: (workspaceId, weight) => setFairShareWeight(redis, keys, workspaceId, weight),
  };
}

/**
 * The copy of a workspace's weight the dispatch script reads (the workspace
 * record keeps the setting; the admin operations write both).
 */
export async function setFairShareWeight(redis: RedisClient, keys: Pick<ReturnType<typeof fairShareKeys>, "weights">, workspaceId: string, weight: number): Promise<void> {
  if (weight === DEFAULT_WORKSPACE_WEIGHT) await redis.hdel(keys.weights, workspaceId);
  else await redis.hset(keys.weights, workspaceId, String(weight));
}

/** Weight writes without a Queue handle (the CLI). */
export function fairShareWeights(redis: RedisClient, prefix: string) {
  const keys = fairShareKeys(queuePrefix(prefix, GENERATE_IMAGE_QUEUE));
  return { set: (workspaceId: string, weight: number) => setFairShareWeight(redis, keys, workspaceId, weight) };
}

export interface Dispatcher {
  /** Asks for a dispatch soon; calls while one runs make it run once more, never pile up. */
  kick(): void;
  /**
   * A kick after a job ended: skipped while the last dispatch found nothing
   * held and no word of held work (\`heldSignal\`) came since it was sent, so
   * an unloaded worker spends no round trip per job on fair sharing.
   */
  kickIfHeld(): void;
  /** Some workspace started holding work (the held channel), or the word may have been missed (a reconnect). */
  heldSignal(): void;
  /** Resolves when no dispatch is running or asked for (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * Runs dispatch calls one at a time, repeating while jobs come out (there
 * may be more room than one call fills) or while someone kicked meanwhile.
 */
export function createDispatcher(fairShare: Pick<FairShare, "dispatchOnce">, log: Logger): Dispatcher {
  let running: Promise<void> | undefined;
  let again = false;
  // Until a dispatch says otherwise, assume work is held.
  let held = true;
  let heldSignals = 0;

  async function dispatchOnce(): Promise<number> {
    const signalsBefore = heldSignals;
    const result = await fairShare.dispatchOnce();
    // A word that arrived while the call was out may be newer than its answer: keep it.
    held = result.stillHeld || heldSignals !== signalsBefore;
    return result.released;
  }

  async function loop(): Promise<void> {
    do {
      again = false;
      try {
        // A call that released less than its most found no more room or no more work.
        while ((await dispatchOnce()) >= DISPATCH_BATCH);
      } catch (error) {
        // Redis away: the next kick (a job ending, the periodic tick) tries again.
        held = true;
        log.warn({ err: error }, "could not dispatch held jobs");
        return;
      }
    } while (again);
  }

  function kick(): void {
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = undefined;
    });
  }

  return {
    kick,
    kickIfHeld() {
      if (held) kick();
    },
    heldSignal() {
      heldSignals++;
      held = true;
    },
    async idle() {
      while (running) await running;
    },
  };
}

/** What adding generate-image jobs fairly needs; `fairShare` undefined means fair sharing is off (FIFO per kind). */
export interface FairEnqueueDeps {
  queue: Queue;
  fairShare: FairShare | undefined;
  dispatcher: Dispatcher | undefined;
}

/**
 * Adds one job: as usual when nobody waits and there is room, else held in
 * its workspace's lane. The lane entry is written before the job, so a
 * producer that dies in between leaves an entry that dispatchers drop, never
 * a held job that no lane knows. Resolves to the id BullMQ reports: the
 * job's own, or another when a deduplication key stopped the add.
 */
export async function addGenerateJobFairly(deps: FairEnqueueDeps, payload: GenerateImagePayload, opts: JobsOptions): Promise<string | undefined> {
  const admission: Admission = deps.fairShare
    ? await deps.fairShare.admit({ jobId: payload.requestId, workspaceId: payload.workspaceId, kind: payload.kind })
    : { verdict: "direct", counted: false };
  if (admission.verdict === "direct") {
    const job = await deps.queue.add(GENERATE_IMAGE_QUEUE, payload, opts);
    // Not awaited: a lost word lapses by itself (see STARTING_TIMEOUT_MS).
    if (admission.counted) deps.fairShare?.added(payload.requestId).catch(() => undefined);
    return job.id;
  }
  const job = await deps.queue.add(GENERATE_IMAGE_QUEUE, payload, { ...opts, delay: HELD_JOB_DELAY_MS });
  if (admission.verdict === "held-dispatch") deps.dispatcher?.kick();
  return job.id;
}

/**
 * Adds a batch's lines, always held: they are a flood by nature. Added first,
 * then put in the batch lane by line index: a producer that dies in between
 * leaves delayed jobs no lane knows, so this is only for producers that run
 * again until done (the batch ingest step, which re-adds and re-holds the
 * same job ids when it resumes).
 */
export async function addBatchLinesFairly(
  deps: FairEnqueueDeps,
  workspaceId: string,
  lines: ReadonlyArray<{ data: GenerateImagePayload; opts: JobsOptions; lineIndex: number }>,
): Promise<void> {
  if (!deps.fairShare) {
    await deps.queue.addBulk(lines.map((line) => ({ name: GENERATE_IMAGE_QUEUE, data: line.data, opts: line.opts })));
    return;
  }
  await deps.queue.addBulk(lines.map((line) => ({ name: GENERATE_IMAGE_QUEUE, data: line.data, opts: { ...line.opts, delay: HELD_JOB_DELAY_MS } })));
  const room = await deps.fairShare.hold(
    workspaceId,
    "batch",
    lines.map((line) => ({ jobId: line.data.requestId, order: line.lineIndex })),
  );
  if (room) deps.dispatcher?.kick();
}
