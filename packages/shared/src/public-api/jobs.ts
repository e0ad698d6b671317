import { z } from "zod";
import { errorBodySchema } from "../errors/service-error.js";
import { imageDatumSchema } from "../wire/images.js";
import type { GenerationStatus } from "../records/generation-records.js";

/**
 * Generation jobs as callers read them: `GET /v1/images/generations/{id}`,
 * the 202 of `Prefer: respond-async`, and the list
 * `GET /v1/images/generations` (OpenAI's list shape with cursor pagination).
 */
export const JOB_STATUSES = ["queued", "in_progress", "succeeded", "failed", "cancelled"] as const satisfies readonly GenerationStatus[];
/** The records module needs Node, so the list is repeated here; the compiler checks both agree. */
export const jobStatusesAgree: Exclude<GenerationStatus, (typeof JOB_STATUSES)[number]> extends never ? true : never = true;

export const generationJobSchema = z.object({
  id: z.string(),
  object: z.literal("image.generation.job"),
  status: z.enum(JOB_STATUSES),
  model: z.string(),
  created_at: z.number().int(),
  started_at: z.number().int().nullable(),
  completed_at: z.number().int().nullable(),
  queue_position: z.number().int().optional(),
  created: z.number().int().optional(),
  data: z.array(imageDatumSchema).optional(),
  error: errorBodySchema.shape.error.optional(),
  /** In listings: what was asked (absent on records written before listings existed). */
  prompt: z.string().optional(),
  size: z.string().optional(),
  n: z.number().int().optional(),
  kind: z.enum(["sync", "async"]).optional(),
});
export type GenerationJobWire = z.infer<typeof generationJobSchema>;

export const generationJobListSchema = z.object({
  object: z.literal("list"),
  data: z.array(generationJobSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});
export type GenerationJobList = z.infer<typeof generationJobListSchema>;
