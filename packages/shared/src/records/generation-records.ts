import type { RedisClient } from "../redis.js";
import { z } from "zod";
import { GENERATION_STATUSES } from "../basics/statuses.js";
import { failureSchema, type Failure } from "../basics/failure.js";
import { generateImageResultSchema, RESPONSE_FORMATS, type GenerateImageResult } from "../basics/images.js";
import { recordKeys, RECORD_RETENTION_SECONDS } from "../redis-keys.js";
import { jsonColumn } from "./json-column.js";
import { writeHashWithTtl } from "./hash-with-ttl.js";
import { transitionStatus } from "./transition.js";

/**
 * What the service remembers of a generation that a caller may poll: async
 * jobs, `Prefer: wait` calls and calls with an Idempotency-Key. The result
 * lives here rather than in BullMQ's job, whose retention is shared with all
 * synchronous traffic.
 */

const epochSeconds = z.coerce.number().int();

export const generationRecordSchema = z.object({
  id: z.string(),
  workspace: z.string(),
  model: z.string(),
  status: z.enum(GENERATION_STATUSES),
  response_format: z.enum(RESPONSE_FORMATS),
  created_at: epochSeconds,
  started_at: epochSeconds.optional(),
  completed_at: epochSeconds.optional(),
  cancelled_at: epochSeconds.optional(),
  webhook_url: z.string().optional(),
  result: jsonColumn(generateImageResultSchema).optional(),
  error: jsonColumn(failureSchema).optional(),
});
export type GenerationRecord = z.infer<typeof generationRecordSchema>;

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function createGenerationRecords(redis: RedisClient, prefix: string) {
  const keys = recordKeys(prefix);

  return {
    async create(record: { id: string; workspace: string; model: string; responseFormat: string; webhookUrl?: string | undefined }) {
      const fields = {
        id: record.id,
        workspace: record.workspace,
        model: record.model,
        status: "queued",
        response_format: record.responseFormat,
        created_at: nowSeconds(),
        ...(record.webhookUrl ? { webhook_url: record.webhookUrl } : {}),
      };
      await writeHashWithTtl(redis, keys.generation(record.id), fields, RECORD_RETENTION_SECONDS);
    },

    async get(id: string): Promise<GenerationRecord | undefined> {
      const fields = await redis.hgetall(keys.generation(id));
      if (Object.keys(fields).length === 0) return undefined;
      const parsed = generationRecordSchema.safeParse(fields);
      return parsed.success ? parsed.data : undefined;
    },

    /** A worker took the job; false when it was cancelled meanwhile (skip the work). */
    async markStarted(id: string): Promise<boolean> {
      const outcome = await transitionStatus(redis, keys.generation(id), "in_progress", ["queued", "in_progress"], {
        started_at: nowSeconds(),
      });
      return outcome?.applied ?? false;
    },

    /** Records the end; a cancelled record keeps its status. Returns whether it was recorded. */
    async finish(id: string, outcome: { result: GenerateImageResult } | { failure: Failure }): Promise<boolean> {
      const fields: Record<string, string | number> =
        "result" in outcome
          ? { result: JSON.stringify(outcome.result), completed_at: nowSeconds() }
          : { error: JSON.stringify(outcome.failure), completed_at: nowSeconds() };
      const applied = await transitionStatus(
        redis,
        keys.generation(id),
        "result" in outcome ? "succeeded" : "failed",
        ["queued", "in_progress"],
        fields,
      );
      return applied?.applied ?? false;
    },

    /** Cancels a job that has not ended; returns the record as it now stands. */
    async cancel(id: string): Promise<{ applied: boolean; previous: string } | null> {
      return transitionStatus(redis, keys.generation(id), "cancelled", ["queued", "in_progress"], { cancelled_at: nowSeconds() });
    },
  };
}
export type GenerationRecords = ReturnType<typeof createGenerationRecords>;
