import type { RedisClient } from "../redis.js";
import { scalingKeys } from "../redis-keys.js";

/**
 * Jobs a worker has taken from the queue but cannot start yet, waiting for a
 * GPU slot: invisible in the queue, so each worker reports its own and the
 * autoscaling signal adds them to what is queued. Reports expire, so a dead
 * worker's count stops counting by itself.
 */
export async function reportJobsHeldForGpu(redis: RedisClient, prefix: string, workerId: string, held: number, ttlMs: number): Promise<void> {
  await redis.hset(scalingKeys(prefix).jobsHeldForGpu(), workerId, `${held}:${Date.now() + ttlMs}`);
}

export async function withdrawJobsHeldReport(redis: RedisClient, prefix: string, workerId: string): Promise<void> {
  await redis.hdel(scalingKeys(prefix).jobsHeldForGpu(), workerId);
}

/** The sum over live workers' reports; removes the reports of workers that stopped reporting. */
export async function readJobsHeldForGpu(redis: RedisClient, prefix: string, nowMs = Date.now()): Promise<number> {
  const key = scalingKeys(prefix).jobsHeldForGpu();
  const reports = await redis.hgetall(key);
  let held = 0;
  const dead: string[] = [];
  for (const [workerId, report] of Object.entries(reports)) {
    const [count, expiresAtMs] = report.split(":").map(Number);
    if (count !== undefined && expiresAtMs !== undefined && Number.isFinite(count) && expiresAtMs > nowMs) held += count;
    else dead.push(workerId);
  }
  if (dead.length > 0) await redis.hdel(key, ...dead);
  return held;
}
