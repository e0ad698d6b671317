import { z } from "zod";
import type { ModelCatalog } from "../catalog/load.js";
import type { ModelCard, ParameterSpec } from "../catalog/schema.js";
import { imagesResponseMetadataSchema, RESPONSE_FORMATS, type ResponseFormat } from "../basics/images.js";
import { parseOrInvalid } from "../errors/invalid-payload.js";
import { ServiceError } from "../errors/service-error.js";
import type { ImageOptions } from "../basics/image-options.js";
import { parseImageOptions, STANDARD_FIELDS } from "./image-options.js";

/**
 * `POST /v1/images/generations`, OpenAI's wire shape. Fields every model takes
 * are checked here; anything else must be declared on the model's card.
 */

/** Fields common to every model. `null` means "use the default", as in OpenAI's SDKs. */
const commonFieldsSchema = z.object({
  model: z.string({ error: "model is required and must be a string" }).min(1, "model must not be empty"),
  prompt: z.string({ error: "prompt is required and must be a string" }).min(1, "prompt must not be empty"),
  n: z.number({ error: "n must be an integer" }).int("n must be an integer").min(1, "n must be at least 1").nullish(),
  size: z.string({ error: "size must be a string like '1024x1024'" }).nullish(),
  response_format: z
    .enum(RESPONSE_FORMATS, { error: "response_format must be 'url' or 'b64_json'" })
    .nullish(),
  user: z.string({ error: "user must be a string" }).max(256, "user must be at most 256 characters").nullish(),
});
const COMMON_FIELDS = new Set(Object.keys(commonFieldsSchema.shape));

/** Model-specific parameters after validation, passed through to the upstream. */
export type ModelParameters = Record<string, string | number | boolean>;

export interface ImageGenerationRequest {
  model: string;
  prompt: string;
  n: number;
  size: string;
  responseFormat: ResponseFormat;
  user: string | undefined;
  parameters: ModelParameters;
  /** OpenAI's standard fields (output format, quality, …), resolved for this model. */
  options: ImageOptions;
}

/** Characters as a person counts them (code points): an emoji is one, not two UTF-16 units. */
function characterCount(text: string): number {
  let count = 0;
  for (const _character of text) count++;
  return count;
}

function invalid(message: string, param: string | null): ServiceError {
  return new ServiceError("invalid_payload", message, { param });
}

function parameterSchema(name: string, spec: ParameterSpec): z.ZodType<string | number | boolean> {
  switch (spec.type) {
    case "string": {
      const text = z
        .string({ error: `${name} must be a string` })
        .refine((value) => characterCount(value) <= spec.max_length, `${name} must be at most ${spec.max_length} characters`);
      return spec.enum ? text.refine((value) => spec.enum!.includes(value), `${name} must be one of: ${spec.enum.join(", ")}`) : text;
    }
    case "integer":
    case "number": {
      let number = z.number({ error: `${name} must be ${spec.type === "integer" ? "an integer" : "a number"}` });
      if (spec.type === "integer") number = number.int(`${name} must be an integer`);
      if (spec.minimum !== undefined) number = number.min(spec.minimum, `${name} must be at least ${spec.minimum}`);
      if (spec.maximum !== undefined) number = number.max(spec.maximum, `${name} must be at most ${spec.maximum}`);
      return number;
    }
    case "boolean":
      return z.boolean({ error: `${name} must be a boolean` });
  }
}

function validateParameters(body: Record<string, unknown>, card: ModelCard): ModelParameters {
  const parameters: ModelParameters = {};
  for (const [name, value] of Object.entries(body)) {
    if (COMMON_FIELDS.has(name) || value === null) continue;
    // A caller's key must never find what every object inherits (`constructor`, `__proto__`, ...).
    const spec = Object.hasOwn(card.parameters, name) ? card.parameters[name] : undefined;
    if (!spec && STANDARD_FIELDS.has(name)) continue;
    if (!spec) {
      throw invalid(`Unrecognized request argument supplied: ${name}. Model '${card.id}' does not accept it.`, name);
    }
    parameters[name] = parseOrInvalid(parameterSchema(name, spec), value, { fallbackMessage: `${name} is invalid`, param: name });
  }
  return parameters;
}

/** The model a request names, or model_not_found (also for models outside the caller's workspace). */
export function findModel(catalog: ModelCatalog, model: string): ModelCard {
  const card = catalog.get(model);
  if (!card) {
    throw new ServiceError("model_not_found", `The model '${model}' does not exist or you do not have access to it.`, { param: "model" });
  }
  return card;
}

/** Which endpoint asked: generations, or edits with what the caller uploaded. */
export type ImageRequestMode = { kind: "generation" } | { kind: "edit"; imageCount: number; hasMask: boolean };

function checkCapabilities(card: ModelCard, mode: ImageRequestMode): void {
  if (mode.kind === "generation") {
    if (!card.capabilities.generations) throw invalid(`Model '${card.id}' only edits images; use POST /v1/images/edits.`, "model");
    return;
  }
  const edits = card.capabilities.edits;
  if (edits === undefined) throw invalid(`Model '${card.id}' cannot edit images; GET /v1/models says which models can.`, "model");
  if (mode.imageCount > edits.maxInputImages) {
    throw invalid(`Model '${card.id}' takes at most ${edits.maxInputImages} input image(s); ${mode.imageCount} were sent.`, "image");
  }
  if (mode.hasMask && !edits.mask) throw invalid(`Model '${card.id}' cannot take a mask.`, "mask");
}

/**
 * Validates a request body against the common schema and the model's card.
 * Throws a ServiceError naming the offending field; order matches what a
 * caller fixes first (shape, then model, then model-specific limits).
 * `sizeIsAuto` says the caller left the size to the model (edits then
 * prefer the input's own size).
 */
export function parseImageRequestBody(body: unknown, catalog: ModelCatalog, mode: ImageRequestMode): {
  request: ImageGenerationRequest;
  card: ModelCard;
  sizeIsAuto: boolean;
} {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("The request body must be a JSON object.", null);
  }
  const record = body as Record<string, unknown>;
  const fields = parseOrInvalid(commonFieldsSchema, record, { fallbackMessage: "The request body is invalid." });

  const card = findModel(catalog, fields.model);
  checkCapabilities(card, mode);
  if (characterCount(fields.prompt) > card.max_prompt_length) {
    throw invalid(`prompt must be at most ${card.max_prompt_length} characters for model '${card.id}'.`, "prompt");
  }
  const n = fields.n ?? 1;
  if (n > card.max_n) {
    throw invalid(`n must be at most ${card.max_n} for model '${card.id}'.`, "n");
  }
  if (n > 1 && record.stream === true) {
    throw invalid("stream: true streams one image; ask for n: 1, or leave stream out for several.", "n");
  }
  // "auto" is OpenAI's "let the model choose": the card's default size.
  const size = fields.size === "auto" || fields.size == null ? card.default_size : fields.size;
  if (!card.sizes.includes(size)) {
    throw invalid(`size '${size}' is not supported by model '${card.id}'. Supported sizes: ${card.sizes.join(", ")}.`, "size");
  }

  return {
    card,
    sizeIsAuto: fields.size === "auto" || fields.size == null,
    request: {
      model: card.id,
      prompt: fields.prompt,
      n,
      size,
      responseFormat: fields.response_format ?? "url",
      user: fields.user ?? undefined,
      parameters: validateParameters(record, card),
      options: parseImageOptions(record, card, { edit: mode.kind === "edit", user: fields.user ?? undefined }),
    },
  };
}

/** `POST /v1/images/generations` (and each line of a batch). */
export function parseImageGenerationRequest(body: unknown, catalog: ModelCatalog): { request: ImageGenerationRequest; card: ModelCard } {
  const { request, card } = parseImageRequestBody(body, catalog, { kind: "generation" });
  return { request, card };
}

export const imageDatumSchema = z.object({
  url: z.string().optional(),
  b64_json: z.string().optional(),
  revised_prompt: z.string().optional(),
});

/** OpenAI's ImagesResponse: metadata fields appear only when known. */
export const imagesResponseSchema = imagesResponseMetadataSchema.extend({
  created: z.number().int(),
  data: z.array(imageDatumSchema),
});
export type ImagesResponse = z.infer<typeof imagesResponseSchema>;
