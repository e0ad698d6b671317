import { z } from "zod";

/**
 * The model library: which image models callers may ask for, what each one
 * accepts, and which GPU upstreams serve it. Loaded from a YAML or JSON file
 * at start-up by both the API (validation, /v1/models) and the worker
 * (upstream routing), so both sides agree on one definition.
 */

const sizeSchema = z.string().regex(/^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$/, "sizes look like '1024x1024'");

/** A model-specific request parameter, declared on the model's card. */
export const parameterSpecSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("string"),
    description: z.string().optional(),
    enum: z.array(z.string()).min(1).optional(),
    max_length: z.number().int().positive().default(4000),
  }),
  z.strictObject({
    type: z.literal("integer"),
    description: z.string().optional(),
    minimum: z.number().int().optional(),
    maximum: z.number().int().optional(),
  }),
  z.strictObject({
    type: z.literal("number"),
    description: z.string().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  }),
  z.strictObject({
    type: z.literal("boolean"),
    description: z.string().optional(),
  }),
]);
export type ParameterSpec = z.infer<typeof parameterSpecSchema>;

export const UPSTREAM_PROTOCOLS = ["openai"] as const;

export const upstreamSpecSchema = z.strictObject({
  /** Stable name used in logs and metrics labels. */
  name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/),
  protocol: z.enum(UPSTREAM_PROTOCOLS),
  base_url: z.url({ protocol: /^https?$/ }),
  /** The model name the upstream knows; defaults to the public model id. */
  model: z.string().min(1).optional(),
  /** Name of the environment variable holding the upstream's API key, if it needs one. */
  api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  /** GPU slots: requests this upstream takes at once from one worker process. */
  max_concurrency: z.number().int().positive().default(4),
  /** Deadline for one HTTP attempt; image models take seconds to minutes. */
  timeout_ms: z.number().int().positive().default(120_000),
  /** Attempts per request on 429/5xx/connection errors, the first included. */
  max_attempts: z.number().int().min(1).max(10).default(3),
  /** Base and cap of the exponential backoff with full jitter between attempts. */
  retry_base_delay_ms: z.number().int().nonnegative().default(500),
  retry_max_delay_ms: z.number().int().nonnegative().default(10_000),
});
export type UpstreamSpec = z.infer<typeof upstreamSpecSchema>;

export const modelCardSchema = z
  .strictObject({
    id: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:/-]{0,127}$/),
    description: z.string().optional(),
    owned_by: z.string().default("imagegen"),
    /** Unix seconds shown as `created` in /v1/models. */
    created: z.number().int().nonnegative().default(0),
    sizes: z.array(sizeSchema).min(1),
    default_size: sizeSchema.optional(),
    max_n: z.number().int().min(1).max(10).default(1),
    max_prompt_length: z.number().int().positive().default(4000),
    /** Whole-request deadline (queueing, retries and storage included). */
    timeout_ms: z.number().int().positive().default(180_000),
    parameters: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), parameterSpecSchema).default({}),
    upstreams: z.array(upstreamSpecSchema).min(1),
  })
  .transform((card, ctx) => {
    const defaultSize = card.default_size ?? (card.sizes.includes("1024x1024") ? "1024x1024" : card.sizes[0]);
    if (defaultSize === undefined || !card.sizes.includes(defaultSize)) {
      ctx.addIssue({ code: "custom", path: ["default_size"], message: "default_size must be one of sizes" });
      return z.NEVER;
    }
    return { ...card, default_size: defaultSize };
  });
export type ModelCard = z.infer<typeof modelCardSchema>;

export const catalogFileSchema = z
  .strictObject({
    models: z.array(modelCardSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.models.forEach((model, index) => {
      if (seen.has(model.id)) {
        ctx.addIssue({ code: "custom", path: ["models", index, "id"], message: `duplicate model id '${model.id}'` });
      }
      seen.add(model.id);
    });
  });
export type CatalogFile = z.infer<typeof catalogFileSchema>;
