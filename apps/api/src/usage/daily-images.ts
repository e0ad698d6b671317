import { USAGE_DAYS, workspaceKeys } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import type { ChainableCommander } from "ioredis";

/**
 * Images per UTC day and workspace, always counted (the images_per_day limit
 * counts only where it is set): one counter per day that expires a few days
 * after leaving the 30 days the usage page shows. Counted when a request is
 * admitted, as the limits count, so a day's figure is what was asked for.
 */
const DAY_MS = 24 * 3600 * 1000;
const RETENTION_SECONDS = (USAGE_DAYS + 5) * 24 * 3600;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds the count to a pipeline or transaction the caller sends anyway (no round trip of its own). */
export function countDailyImages(commands: ChainableCommander, prefix: string, workspaceId: string, images: number, nowMs: number): void {
  const key = workspaceKeys(prefix).dailyImages(workspaceId, utcDay(nowMs));
  commands.incrby(key, images).expire(key, RETENTION_SECONDS);
}

/** The last `USAGE_DAYS` days, oldest first, today last; days without images are 0. */
export async function readDailyImages(redis: RedisClient, prefix: string, workspaceId: string, nowMs: number): Promise<Array<{ date: string; images: number }>> {
  const keys = workspaceKeys(prefix);
  const days = Array.from({ length: USAGE_DAYS }, (_, index) => utcDay(nowMs - (USAGE_DAYS - 1 - index) * DAY_MS));
  const counts = await redis.mget(days.map((day) => keys.dailyImages(workspaceId, day)));
  return days.map((date, index) => ({ date, images: Number(counts[index] ?? 0) || 0 }));
}
