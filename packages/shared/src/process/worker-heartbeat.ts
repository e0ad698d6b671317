import type { RedisClient } from "../redis.js";
import { operationsKeys } from "../redis-keys.js";

/**
 * Worker presence: each worker process writes its id and the time into one
 * sorted set every second; the API counts the entries newer than
 * WORKER_STALE_AFTER_MS to know whether anything consumes the queue. A
 * worker that stops gracefully removes itself at once; a killed one ages
 * out within the staleness window.
 */
export const WORKER_HEARTBEAT_INTERVAL_MS = 1000;
export const WORKER_STALE_AFTER_MS = 5000;

export async function recordWorkerHeartbeat(redis: RedisClient, prefix: string, workerId: string, nowMs = Date.now()): Promise<void> {
  const key = operationsKeys(prefix).workerHeartbeats();
  // Entries of workers gone for an hour are dropped so the set stays small.
  await redis.multi().zadd(key, nowMs, workerId).zremrangebyscore(key, "-inf", nowMs - 3600_000).exec();
}

export async function removeWorkerHeartbeat(redis: RedisClient, prefix: string, workerId: string): Promise<void> {
  await redis.zrem(operationsKeys(prefix).workerHeartbeats(), workerId);
}

/** Workers heard from within the staleness window. */
export async function countLiveWorkers(redis: RedisClient, prefix: string, nowMs = Date.now()): Promise<number> {
  return redis.zcount(operationsKeys(prefix).workerHeartbeats(), nowMs - WORKER_STALE_AFTER_MS, "+inf");
}
