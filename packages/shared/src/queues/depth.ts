import type { Queue } from "bullmq";
import { cachedRead } from "../cached-read.js";
import type { RedisClient } from "../redis.js";

/** The states queue depth is reported in; completed jobs are trimmed by BullMQ and not worth a series. */
export const QUEUE_DEPTH_STATES = ["waiting", "active", "delayed", "prioritized", "failed"] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

export interface QueueDepth {
  queue: string;
  jobs: Record<QueueDepthState, number>;
  /** Age of the oldest job at the head of the line (plain wait list, prioritized set, or held for fair sharing); 0 when nothing waits. */
  oldestWaitingAgeSeconds: number;
}

/**
 * Creation timestamps of the jobs that run next: the oldest entry of the
 * plain wait list (BullMQ pushes on the left and takes from the right), the
 * head of the prioritized set, and the head of the delayed set (jobs held
 * for fair sharing, all with the same delay, so its head is the oldest held;
 * or a retry backing off), then their job hashes: two round trips of O(1)
 * reads, with every key named (a Redis Cluster routes by the keys a command
 * declares). The prioritized set is ordered by priority, so its head is the
 * next to run, not necessarily its oldest member: a batch line waiting
 * behind a stream of async jobs ages without showing here until it reaches
 * the head.
 */
async function headTimestamps(queue: Queue): Promise<number[]> {
  // BullMQ types its connection loosely; it is the ioredis client the queue was given.
  const client = (await queue.client) as unknown as RedisClient;
  const [tail, head, held] = await Promise.all([
    client.lindex(queue.toKey("wait"), -1),
    client.zrange(queue.toKey("prioritized"), 0, 0),
    client.zrange(queue.toKey("delayed"), 0, 0),
  ]);
  const ids = [tail, head[0], held[0]].filter((id): id is string => typeof id === "string");
  const stamps = await Promise.all(ids.map((id) => client.hget(queue.toKey(id), "timestamp")));
  return stamps.map(Number).filter((value) => Number.isFinite(value) && value > 0);
}

async function readDepth(queue: Queue, nowMs: number): Promise<QueueDepth> {
  const counts = await queue.getJobCounts(...QUEUE_DEPTH_STATES);
  const timestamps = await headTimestamps(queue);
  const oldestMs = timestamps.length > 0 ? Math.min(...timestamps) : nowMs;
  return {
    queue: queue.name,
    jobs: {
      // A paused queue keeps its waiting jobs apart; they still wait.
      waiting: (counts.waiting ?? 0) + (counts.paused ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      prioritized: counts.prioritized ?? 0,
      failed: counts.failed ?? 0,
    },
    oldestWaitingAgeSeconds: Math.max(0, nowMs - oldestMs) / 1000,
  };
}

export interface QueueDepthReader {
  /** Depth of every queue, at most `maxAgeMs` old. */
  read(): Promise<QueueDepth[]>;
}

/**
 * Queue depth for /metrics, read with a few O(1) Redis calls per queue and
 * cached for `maxAgeMs`: however many scrapers (or API replicas' scrapes)
 * arrive, Redis sees at most one read per queue per period from this process.
 * Concurrent scrapes share one read in flight.
 */
export function createQueueDepthReader(deps: { queues: readonly Queue[]; maxAgeMs: number; now?: () => number }): QueueDepthReader {
  return { read: cachedRead(deps.maxAgeMs, (nowMs) => Promise.all(deps.queues.map((queue) => readDepth(queue, nowMs))), deps.now) };
}
