import { z } from "zod";
import { errorBodySchema } from "../errors/service-error.js";
import { imageDatumSchema } from "../wire/images.js";
import { GENERATION_STATUSES } from "../basics/statuses.js";

/**
 * Generation jobs as callers read them: `GET /v1/images/generations/{id}`,
 * the 202 of `Prefer: respond-async`, and the list
 * `GET /v1/images/generations` (OpenAI's list shape with cursor pagination).
 */

export const generationJobSchema = z.object({
  id: z.string(),
  object: z.literal("image.generation.job"),
  status: z.enum(GENERATION_STATUSES),
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
