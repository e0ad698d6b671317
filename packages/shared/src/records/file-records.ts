import type { RedisClient } from "../redis.js";
import { z } from "zod";
import { recordKeys, RECORD_RETENTION_SECONDS } from "../redis-keys.js";
import { writeHashWithTtl } from "./hash-with-ttl.js";

/**
 * Files of the Batch API: uploaded inputs and the outputs we produce. The
 * bytes live in the file store; this is the metadata OpenAI's file object
 * shows, plus where the bytes are and how to render them.
 */
export const FILE_PURPOSES = ["batch", "batch_output"] as const;

export const fileRecordSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  filename: z.string(),
  purpose: z.enum(FILE_PURPOSES),
  bytes: z.coerce.number().int().nonnegative(),
  created_at: z.coerce.number().int(),
  storage_key: z.string(),
  /**
   * `jsonl` is served as stored; `batch_results` holds references to images
   * and is rendered into OpenAI's output lines when downloaded, so links are
   * signed at download time, not when the batch ran.
   */
  format: z.enum(["jsonl", "batch_results"]),
});
export type FileRecord = z.infer<typeof fileRecordSchema>;

export function createFileRecords(redis: RedisClient, prefix: string) {
  const keys = recordKeys(prefix);
  return {
    async create(record: FileRecord): Promise<void> {
      await writeHashWithTtl(redis, keys.file(record.id), record, RECORD_RETENTION_SECONDS);
    },
    /** The file, if it exists in this workspace: another workspace's file is simply not found. */
    async get(id: string, workspace: string): Promise<FileRecord | undefined> {
      const fields = await redis.hgetall(keys.file(id));
      const parsed = fileRecordSchema.safeParse(fields);
      return parsed.success && parsed.data.workspace === workspace ? parsed.data : undefined;
    },
    async delete(id: string): Promise<void> {
      await redis.del(keys.file(id));
    },
  };
}
export type FileRecords = ReturnType<typeof createFileRecords>;
