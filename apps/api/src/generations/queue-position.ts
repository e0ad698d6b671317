import type { Queue } from "bullmq";
import type { RedisClient } from "@imagegen/shared";

/**
 * 1-based place of a queued job in line: every synchronous job on the plain
 * wait list goes first, then prioritized jobs in priority order. Read from
 * BullMQ's own keys (two O(log n) commands), never by listing the queue.
 */
export async function queuePosition(queue: Queue, redis: RedisClient, jobId: string): Promise<number | undefined> {
  const [waiting, rank] = await Promise.all([redis.llen(queue.keys.wait!), redis.zrank(queue.keys.prioritized!, jobId)]);
  return rank === null ? undefined : waiting + rank + 1;
}
