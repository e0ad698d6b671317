import { USAGE_DAYS, utcDay, workspaceKeys, type RedisClient } from "@imagegen/shared";

/**
 * Images per UTC day and workspace, always counted (the images_per_day limit
 * counts only where it is set): the generation history's script adds each
 * generation's `n` to the day's counter as it lists it (see
 * records/generation-history.ts). Here they are read back for the usage page.
 */
const DAY_MS = 24 * 3600 * 1000;

/** The last `USAGE_DAYS` days, oldest first, today last; days without images are 0. One MGET (one slot: the workspace's tag). */
export async function readDailyImages(redis: RedisClient, prefix: string, workspaceId: string, nowMs: number): Promise<Array<{ date: string; images: number }>> {
  const keys = workspaceKeys(prefix);
  const days = Array.from({ length: USAGE_DAYS }, (_, index) => utcDay(nowMs - (USAGE_DAYS - 1 - index) * DAY_MS));
  const counts = await redis.mget(days.map((day) => keys.dailyImages(workspaceId, day)));
  return days.map((date, index) => ({ date, images: Number(counts[index] ?? 0) || 0 }));
}
