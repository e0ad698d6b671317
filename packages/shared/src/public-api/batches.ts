import { z } from "zod";
import { BATCH_STATUSES } from "../basics/statuses.js";

/** OpenAI's batch and file objects as callers read them (the console's Batches page). */
export const batchObjectSchema = z.object({
  id: z.string(),
  object: z.literal("batch"),
  endpoint: z.string(),
  errors: z
    .object({
      object: z.literal("list").optional(),
      data: z.array(z.object({ code: z.string(), message: z.string(), param: z.string().nullable().optional(), line: z.number().int().nullable().optional() })),
    })
    .nullable(),
  input_file_id: z.string(),
  completion_window: z.string(),
  status: z.enum(BATCH_STATUSES),
  output_file_id: z.string().nullable(),
  error_file_id: z.string().nullable(),
  created_at: z.number().int(),
  in_progress_at: z.number().int().nullable(),
  expires_at: z.number().int(),
  finalizing_at: z.number().int().nullable(),
  completed_at: z.number().int().nullable(),
  failed_at: z.number().int().nullable(),
  expired_at: z.number().int().nullable(),
  cancelling_at: z.number().int().nullable(),
  cancelled_at: z.number().int().nullable(),
  request_counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
  metadata: z.record(z.string(), z.string()).nullable(),
});
export type BatchObjectWire = z.infer<typeof batchObjectSchema>;

export const batchListSchema = z.object({
  object: z.literal("list"),
  data: z.array(batchObjectSchema),
  first_id: z.string().nullable().optional(),
  last_id: z.string().nullable().optional(),
  has_more: z.boolean(),
});

export const fileObjectSchema = z.object({
  id: z.string(),
  object: z.literal("file"),
  bytes: z.number().int(),
  created_at: z.number().int(),
  filename: z.string(),
  purpose: z.string(),
});
export type FileObjectWire = z.infer<typeof fileObjectSchema>;
