import type { RedisClient } from "../redis.js";
import { z } from "zod";
import { BATCH_STATUSES, type BatchStatus } from "../basics/statuses.js";
import { recordKeys, RECORD_RETENTION_SECONDS } from "../redis-keys.js";
import { luaScript } from "../lua-script.js";
import { jsonColumn } from "./json-column.js";
import { transitionStatus } from "./transition.js";

export const ACTIVE_BATCH_STATUSES: readonly BatchStatus[] = ["validating", "in_progress", "cancelling"];

const optionalSeconds = z.coerce.number().int().optional();

/** One problem found in a batch's input file, as OpenAI lists them. */
export const batchLineErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  param: z.string().nullable(),
  line: z.number().int().nullable(),
});
export type BatchLineError = z.infer<typeof batchLineErrorSchema>;
export const batchErrorsSchema = z.object({ object: z.literal("list"), data: z.array(batchLineErrorSchema) });

export const batchRecordSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  status: z.enum(BATCH_STATUSES),
  endpoint: z.string(),
  input_file_id: z.string(),
  completion_window: z.string(),
  created_at: z.coerce.number().int(),
  expires_at: z.coerce.number().int(),
  in_progress_at: optionalSeconds,
  finalizing_at: optionalSeconds,
  completed_at: optionalSeconds,
  failed_at: optionalSeconds,
  expired_at: optionalSeconds,
  cancelling_at: optionalSeconds,
  cancelled_at: optionalSeconds,
  output_file_id: z.string().optional(),
  error_file_id: z.string().optional(),
  errors: jsonColumn(batchErrorsSchema).optional(),
  metadata: jsonColumn(z.record(z.string(), z.string())).optional(),
  webhook_url: z.string().optional(),
  expire_requested: z.literal("1").optional(),
  /** Lines added to the queue so far; lets an interrupted dispatch resume. */
  dispatched: z.coerce.number().int().optional(),
  total: z.coerce.number().int().default(0),
  completed: z.coerce.number().int().default(0),
  failed: z.coerce.number().int().default(0),
  skipped: z.coerce.number().int().default(0),
});
export type BatchRecord = z.infer<typeof batchRecordSchema>;

/**
 * Records one line's outcome exactly once (a line job that runs twice after a
 * worker crash finds its field set) and counts it. Replies -1 when already
 * recorded, 1 when this was the last line outstanding, 0 otherwise.
 */
const RECORD_LINE = luaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return -1 end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
local counts = redis.call('HMGET', KEYS[2], 'completed', 'failed', 'skipped', 'total', 'status')
local done = (tonumber(counts[1]) or 0) + (tonumber(counts[2]) or 0) + (tonumber(counts[3]) or 0)
if counts[5] ~= 'validating' and done >= (tonumber(counts[4]) or 0) then return 1 end
return 0
`);

/**
 * What a line job reads before it runs: whether its outcome is recorded, and
 * its batch's status and expiry request. One script rather than a MULTI: a
 * MULTI builds an ioredis pipeline that copies every command the connection
 * knows (BullMQ defines dozens), about 16 KB of garbage per batch line.
 */
const LINE_GATE = luaScript(`
return { redis.call('HEXISTS', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], 'status') or false, redis.call('HGET', KEYS[2], 'expire_requested') or false }
`);

export type LineCounter = "completed" | "failed" | "skipped";
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function createBatchRecords(redis: RedisClient, prefix: string) {
  const keys = recordKeys(prefix);

  async function get(id: string): Promise<BatchRecord | undefined> {
    const fields = await redis.hgetall(keys.batch(id));
    if (Object.keys(fields).length === 0) return undefined;
    const parsed = batchRecordSchema.safeParse(fields);
    return parsed.success ? parsed.data : undefined;
  }

  return {
    get,

    async create(record: {
      id: string;
      workspace: string;
      inputFileId: string;
      endpoint: string;
      completionWindow: string;
      expiresAt: number;
      metadata?: Record<string, string> | null | undefined;
      webhookUrl?: string | undefined;
    }): Promise<void> {
      const createdAt = nowSeconds();
      // The batch first, then its place in the workspace's index (another
      // cluster slot): a batch is never listed before it can be read.
      await redis.hset(keys.batch(record.id), {
          id: record.id,
          workspace: record.workspace,
          status: "validating",
          endpoint: record.endpoint,
          input_file_id: record.inputFileId,
          completion_window: record.completionWindow,
          created_at: createdAt,
          expires_at: record.expiresAt,
          ...(record.metadata ? { metadata: JSON.stringify(record.metadata) } : {}),
          ...(record.webhookUrl ? { webhook_url: record.webhookUrl } : {}),
      });
      // Newest first for listing; the id breaks ties within one millisecond.
      await redis.zadd(keys.batchesByWorkspace(record.workspace), Date.now(), record.id);
    },

    /** A page of a workspace's batches, newest first, after the given id. */
    async list(workspace: string, options: { after?: string | undefined; limit: number }): Promise<{ records: BatchRecord[]; hasMore: boolean }> {
      const index = keys.batchesByWorkspace(workspace);
      let start = 0;
      if (options.after) {
        const rank = await redis.zrevrank(index, options.after);
        if (rank === null) return { records: [], hasMore: false };
        start = rank + 1;
      }
      const ids = await redis.zrevrange(index, start, start + options.limit);
      const records = (await Promise.all(ids.slice(0, options.limit).map(get))).filter((record): record is BatchRecord => !!record);
      return { records, hasMore: ids.length > options.limit };
    },

    transition(id: string, to: BatchStatus, from: readonly BatchStatus[], fields: Record<string, string | number> = {}) {
      return transitionStatus(redis, keys.batch(id), to, from, fields);
    },

    /** Validation passed: the line count is known and lines may start. */
    startRunning(id: string, total: number) {
      return transitionStatus(redis, keys.batch(id), "in_progress", ["validating"], { total, in_progress_at: nowSeconds() });
    },

    async markDispatched(id: string, count: number): Promise<void> {
      await redis.hset(keys.batch(id), "dispatched", count);
    },

    async requestExpiry(id: string): Promise<void> {
      await redis.hset(keys.batch(id), "expire_requested", "1");
    },

    async recordLine(id: string, index: number, outcome: unknown, counter: LineCounter): Promise<{ recorded: boolean; lastLine: boolean }> {
      const reply = (await RECORD_LINE(redis, [keys.batchResults(id), keys.batch(id)], [String(index), JSON.stringify(outcome), counter])) as number;
      return { recorded: reply !== -1, lastLine: reply === 1 };
    },

    /**
     * What a line job needs to know before it runs, in one round trip:
     * whether it already ran, and whether its batch still wants it.
     */
    async lineGate(id: string, index: number): Promise<{ recorded: boolean; exists: boolean; status?: string; expireRequested: boolean }> {
      const reply = await LINE_GATE(redis, [keys.batchResults(id), keys.batch(id)], [String(index)]);
      const [recorded, status, expireRequested] = Array.isArray(reply) ? reply : [];
      return {
        recorded: recorded === 1,
        exists: typeof status === "string",
        ...(typeof status === "string" && status !== "" ? { status } : {}),
        expireRequested: expireRequested === "1",
      };
    },

    /** Outcomes of lines [start, start + count), in order; null where none is recorded. */
    async readLines(id: string, start: number, count: number): Promise<Array<string | null>> {
      const fields = Array.from({ length: count }, (_, offset) => String(start + offset));
      return fields.length === 0 ? [] : redis.hmget(keys.batchResults(id), ...fields);
    },

    /** Once a batch has ended, its records are kept for the retention period only. */
    async expireFinished(id: string, workspace: string): Promise<void> {
      // The batch's own keys share a slot; the workspace's index is elsewhere.
      await redis.multi().expire(keys.batch(id), RECORD_RETENTION_SECONDS).expire(keys.batchResults(id), RECORD_RETENTION_SECONDS).exec();
      await redis.zremrangebyscore(keys.batchesByWorkspace(workspace), 0, Date.now() - RECORD_RETENTION_SECONDS * 1000);
    },
  };
}
export type BatchRecords = ReturnType<typeof createBatchRecords>;
