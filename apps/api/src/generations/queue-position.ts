import type { Queue } from "bullmq";
import type { FairShare, RedisClient } from "@imagegen/shared";

/**
 * 1-based place of a queued job in line. A job held in its workspace's lane
 * (fair sharing) is placed in the fair order; a released one by BullMQ's
 * order: every synchronous job on the plain wait list goes first, then
 * prioritized jobs in priority order. Read with O(log n) commands, never by
 * listing the queue.
 */
export async function queuePosition(
  deps: { queue: Queue; redis: RedisClient; fairShare: Pick<FairShare, "position"> },
  job: { id: string; workspace: string },
): Promise<number | undefined> {
  const held = await deps.fairShare.position(job.workspace, job.id);
  if (held !== undefined) return held;
  const [waiting, rank] = await Promise.all([deps.redis.llen(deps.queue.keys.wait!), deps.redis.zrank(deps.queue.keys.prioritized!, job.id)]);
  return rank === null ? undefined : waiting + rank + 1;
}
