import { z } from "zod";
import type { BatchRecord } from "../records/batch-records.js";

/** The one endpoint this service runs batches for. */
export const BATCH_ENDPOINT = "/v1/images/generations";
export const COMPLETION_WINDOWS = { "24h": 24 * 3600 } as const;

/**
 * A JSON object kept exactly as the caller wrote it. `z.record` rebuilds the
 * object and silently drops an own `__proto__` key; a request line must be
 * checked with every key it has, as the synchronous endpoint checks it.
 */
const jsonObjectSchema = (error: string) =>
  z.custom<Record<string, unknown>>((value) => value !== null && typeof value === "object" && !Array.isArray(value), { error });

/**
 * Caller-chosen labels, within OpenAI's limits (16 pairs, keys of 64 and
 * values of 512 characters). `__proto__` cannot round-trip through a
 * record, so it is refused rather than dropped.
 */
const metadataSchema = z.preprocess(
  (value, ctx) => {
    if (value !== null && typeof value === "object" && Object.hasOwn(value, "__proto__")) {
      ctx.addIssue({ code: "custom", message: "metadata keys must not be '__proto__'", input: value });
    }
    return value;
  },
  z
    .record(z.string().max(64, "metadata keys are at most 64 characters"), z.string().max(512, "metadata values are at most 512 characters"))
    .refine((metadata) => Object.keys(metadata).length <= 16, "metadata holds at most 16 pairs"),
);

/** `POST /v1/batches` body (OpenAI's), plus an optional webhook. */
export const createBatchBodySchema = z.object({
  input_file_id: z.string({ error: "input_file_id is required" }).min(1),
  endpoint: z.literal(BATCH_ENDPOINT, { error: `endpoint must be '${BATCH_ENDPOINT}'` }),
  completion_window: z.enum(Object.keys(COMPLETION_WINDOWS) as ["24h"], { error: "completion_window must be '24h'" }),
  metadata: metadataSchema.nullish(),
  webhook_url: z.url({ protocol: /^https?$/, error: "webhook_url must be an http(s) URL" }).optional(),
});

/** One line of a batch input file. */
export const batchInputLineSchema = z.object({
  custom_id: z.string({ error: "custom_id is required" }).min(1).max(512),
  method: z.literal("POST", { error: "method must be 'POST'" }),
  url: z.string({ error: "url is required" }),
  body: jsonObjectSchema("body must be a JSON object"),
});
export type BatchInputLine = z.infer<typeof batchInputLineSchema>;

/** A validation problem in an input file, as OpenAI lists them under `errors`. */

/** OpenAI's batch object. */
export function toBatchObject(record: BatchRecord) {
  return {
    id: record.id,
    object: "batch" as const,
    endpoint: record.endpoint,
    errors: record.errors ?? null,
    input_file_id: record.input_file_id,
    completion_window: record.completion_window,
    status: record.status,
    output_file_id: record.output_file_id ?? null,
    error_file_id: record.error_file_id ?? null,
    created_at: record.created_at,
    in_progress_at: record.in_progress_at ?? null,
    expires_at: record.expires_at,
    finalizing_at: record.finalizing_at ?? null,
    completed_at: record.completed_at ?? null,
    failed_at: record.failed_at ?? null,
    expired_at: record.expired_at ?? null,
    cancelling_at: record.cancelling_at ?? null,
    cancelled_at: record.cancelled_at ?? null,
    request_counts: { total: record.total, completed: record.completed, failed: record.failed },
    metadata: record.metadata ?? null,
  };
}
export type BatchObject = ReturnType<typeof toBatchObject>;
