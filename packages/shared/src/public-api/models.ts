import { z } from "zod";
import { parameterSpecSchema } from "../catalog/schema.js";

/**
 * `GET /v1/models` entries as callers read them: OpenAI's model object plus
 * the `image` block (sizes, cap on n, declared parameters). The console's
 * Model Library and Playground are typed from this schema.
 */
export const modelObjectSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number(),
  owned_by: z.string(),
  description: z.string().optional(),
  image: z.object({
    sizes: z.array(z.string()),
    default_size: z.string(),
    max_n: z.number().int(),
    max_prompt_length: z.number().int(),
    response_formats: z.array(z.string()),
    parameters: z.record(z.string(), parameterSpecSchema),
    /** What the model can do beyond a plain generation: edits, transparency, quality levels, formats (servers before it omit it). */
    capabilities: z
      .object({
        generations: z.boolean(),
        edits: z.union([z.literal(false), z.object({ max_input_images: z.number().int(), mask: z.boolean() })]),
        transparent_background: z.boolean(),
        qualities: z.array(z.string()),
        output_formats: z.array(z.string()),
      })
      .optional(),
  }),
});
export type ModelObjectWire = z.infer<typeof modelObjectSchema>;

export const modelListSchema = z.object({ object: z.literal("list"), data: z.array(modelObjectSchema) });

/**
 * `GET /v1/model-health`: whether each model of the workspace has an
 * upstream in rotation now, as the workers last reported it.
 * `unknown`: no worker has reported recently.
 */
export const MODEL_HEALTH_STATUSES = ["healthy", "unhealthy", "unknown"] as const;
export const modelHealthSchema = z.object({
  object: z.literal("model.health"),
  model: z.string(),
  status: z.enum(MODEL_HEALTH_STATUSES),
  /** Upstreams in rotation in the worker that sees the most of them. */
  healthy_upstreams: z.number().int(),
  /** Unix seconds of the newest report counted, or null. */
  reported_at: z.number().int().nullable(),
});
export type ModelHealth = z.infer<typeof modelHealthSchema>;
export const modelHealthListSchema = z.object({ object: z.literal("list"), data: z.array(modelHealthSchema) });
