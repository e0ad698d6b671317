import { z } from "zod";
import { capabilitiesSpecSchema, resolveCapabilities } from "./capabilities.js";
import { upstreamSpecSchema } from "./upstream.js";

export * from "./upstream.js";
export * from "./capabilities.js";

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
    /** Edits, transparency, quality levels: see capabilities.ts for the defaults. */
    capabilities: capabilitiesSpecSchema.optional(),
  })
  .transform((card, ctx) => {
    const names = card.upstreams.map((upstream) => upstream.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) {
      ctx.addIssue({ code: "custom", path: ["upstreams"], message: `upstream '${duplicate}' is listed twice` });
      return z.NEVER;
    }
    const defaultSize = card.default_size ?? (card.sizes.includes("1024x1024") ? "1024x1024" : card.sizes[0]);
    if (defaultSize === undefined || !card.sizes.includes(defaultSize)) {
      ctx.addIssue({ code: "custom", path: ["default_size"], message: "default_size must be one of sizes" });
      return z.NEVER;
    }
    const { capabilities, problems } = resolveCapabilities(card.capabilities, card.upstreams);
    for (const problem of problems) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
    if (problems.length > 0) return z.NEVER;
    return { ...card, default_size: defaultSize, capabilities };
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
