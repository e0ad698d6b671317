import { z } from "zod";
import { failureSchema } from "../basics/failure.js";
import { generateImageResultSchema, RESPONSE_FORMATS } from "../basics/images.js";
import { luaScript } from "../lua-script.js";
import type { RedisClient } from "../redis.js";
import { recordKeys, RECORD_RETENTION_SECONDS, workspaceKeys } from "../redis-keys.js";
import { parseJsonAs } from "../basics/json.js";
import { GENERATION_STATUSES } from "../basics/statuses.js";

/**
 * A workspace's recent generations, newest first, for `GET
 * /v1/images/generations` and the console's Jobs page: every generation,
 * plain synchronous calls included, summarised (what was asked, how it
 * ended, its stored images). Plain synchronous calls keep nothing else, so
 * their summary is their record, written once when they end; polled work
 * (async, `Prefer: wait`, Idempotency-Key) has a record of its own whose
 * status is the live one, and its summary is written when it is accepted.
 *
 * Both keys carry the workspace's hash tag, so one script adds a summary,
 * trims the oldest beyond `perWorkspace` (and older than the retention) and
 * counts the day's images: one round trip, all in one slot of a cluster.
 */
export const generationSummarySchema = z.object({
  id: z.string(),
  workspace: z.string(),
  kind: z.enum(["sync", "async"]),
  /** True when the job has a record of its own (its status is the live one). */
  retained: z.boolean(),
  model: z.string(),
  prompt: z.string(),
  size: z.string(),
  n: z.number().int(),
  response_format: z.enum(RESPONSE_FORMATS),
  status: z.enum(GENERATION_STATUSES),
  created_at: z.number().int(),
  completed_at: z.number().int().optional(),
  result: generateImageResultSchema.optional(),
  error: failureSchema.optional(),
});
export type GenerationSummary = z.infer<typeof generationSummarySchema>;

/**
 * KEYS: history (sorted set), summaries (hash), the day's image counter.
 * ARGV: id, created (ms), summary JSON, keep at most, drop older than (ms),
 * images to count, counter lifetime (s), history lifetime (s).
 */
const RECORD_SUMMARY = luaScript(`
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local dropped = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[5], 'LIMIT', 0, 100)
local over = redis.call('ZCARD', KEYS[1]) - #dropped - tonumber(ARGV[4])
-- A lowered limit is reached over several calls, so one call never unpacks a huge list.
if over > 1000 then over = 1000 end
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], #dropped, #dropped + over - 1)
  for _, id in ipairs(oldest) do dropped[#dropped + 1] = id end
end
if #dropped > 0 then
  redis.call('ZREM', KEYS[1], unpack(dropped))
  redis.call('HDEL', KEYS[2], unpack(dropped))
end
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[8])
if tonumber(ARGV[6]) > 0 then
  redis.call('INCRBY', KEYS[3], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
return #dropped
`);

const USAGE_RETENTION_SECONDS = 35 * 24 * 3600;

const DAY_MS = 24 * 3600 * 1000;
/** The last day asked for: nearly every call asks for today's (once per request on the hot path). */
let lastDay = { startMs: 0, endMs: 0, day: "" };

/** The UTC calendar day (YYYY-MM-DD) of an epoch time in ms. */
export function utcDay(ms: number): string {
  if (ms >= lastDay.startMs && ms < lastDay.endMs) return lastDay.day;
  // Epoch time has no leap seconds: every UTC day is exactly DAY_MS long.
  const startMs = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
  lastDay = { startMs, endMs: startMs + DAY_MS, day: new Date(startMs).toISOString().slice(0, 10) };
  return lastDay.day;
}

export function createGenerationHistory(redis: RedisClient, prefix: string, options: { perWorkspace: number }) {
  const keys = recordKeys(prefix);
  const usageKeys = workspaceKeys(prefix);

  const parse = (text: string | null | undefined) => parseJsonAs(generationSummarySchema, text);

  return {
    /**
     * Adds (or replaces) a summary, placed by when its request arrived, and
     * counts its images for the day's usage when `countImages`; one script
     * call. Resolves when Redis has it.
     */
    async record(summary: GenerationSummary, listing: { createdAtMs: number; countImages: boolean; nowMs?: number }): Promise<void> {
      const nowMs = listing.nowMs ?? Date.now();
      await RECORD_SUMMARY(
        redis,
        [keys.generationHistory(summary.workspace), keys.generationSummaries(summary.workspace), usageKeys.dailyImages(summary.workspace, utcDay(nowMs))],
        [
          summary.id,
          // Listed in the order the requests arrived, to the millisecond.
          listing.createdAtMs,
          JSON.stringify(summary),
          options.perWorkspace,
          nowMs - RECORD_RETENTION_SECONDS * 1000,
          listing.countImages ? summary.n : 0,
          USAGE_RETENTION_SECONDS,
          RECORD_RETENTION_SECONDS,
        ],
      );
    },

    async get(workspaceId: string, id: string): Promise<GenerationSummary | undefined> {
      return parse(await redis.hget(keys.generationSummaries(workspaceId), id));
    },

    /**
     * A page of summaries, newest first, after the id `after` (exclusive);
     * an `after` that is no longer listed gives an empty page.
     */
    async page(workspaceId: string, page: { limit: number; after?: string | undefined }): Promise<{ summaries: GenerationSummary[]; hasMore: boolean }> {
      const history = keys.generationHistory(workspaceId);
      let start = 0;
      if (page.after !== undefined) {
        const rank = await redis.zrevrank(history, page.after);
        if (rank === null) return { summaries: [], hasMore: false };
        start = rank + 1;
      }
      // One more than asked for says whether there is a next page.
      const ids = await redis.zrevrange(history, start, start + page.limit);
      const hasMore = ids.length > page.limit;
      const shown = ids.slice(0, page.limit);
      const texts = shown.length > 0 ? await redis.hmget(keys.generationSummaries(workspaceId), ...shown) : [];
      const summaries = texts.map(parse).filter((summary): summary is GenerationSummary => summary !== undefined && summary.workspace === workspaceId);
      return { summaries, hasMore };
    },
  };
}
export type GenerationHistory = ReturnType<typeof createGenerationHistory>;
