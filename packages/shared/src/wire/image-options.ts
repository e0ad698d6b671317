import { z } from "zod";
import { BACKGROUNDS, INPUT_FIDELITIES, MODERATIONS, OUTPUT_FORMATS, QUALITIES, STYLES, type ImageOptions } from "../basics/image-options.js";
import type { ModelCard } from "../catalog/schema.js";
import { ServiceError } from "../errors/service-error.js";

/**
 * OpenAI's standard image fields (CreateImageRequest / CreateImageEditRequest
 * in openai-openapi), understood for every model without a card declaring
 * them. Each is honoured by the worker (output format, compression,
 * background), passed to the upstream under its own name (quality, style,
 * moderation, user), or refused here naming the field when the model cannot
 * do it. A card that declares one of these names as its own parameter keeps
 * it: model-specific parameters stay on the card.
 */
const fieldsSchema = z.object({
  output_format: z.enum(OUTPUT_FORMATS, { error: "output_format must be one of: png, jpeg, webp" }).nullish(),
  output_compression: z
    .number({ error: "output_compression must be an integer from 0 to 100" })
    .int("output_compression must be an integer from 0 to 100")
    .min(0, "output_compression must be an integer from 0 to 100")
    .max(100, "output_compression must be an integer from 0 to 100")
    .nullish(),
  background: z.enum(BACKGROUNDS, { error: "background must be one of: transparent, opaque, auto" }).nullish(),
  quality: z.enum(QUALITIES, { error: `quality must be one of: ${QUALITIES.join(", ")}` }).nullish(),
  style: z.enum(STYLES, { error: "style must be 'vivid' or 'natural'" }).nullish(),
  moderation: z.enum(MODERATIONS, { error: "moderation must be 'auto' or 'low'" }).nullish(),
  input_fidelity: z.enum(INPUT_FIDELITIES, { error: "input_fidelity must be 'high' or 'low'" }).nullish(),
  safety_identifier: z.string({ error: "safety_identifier must be a string" }).max(256, "safety_identifier must be at most 256 characters").nullish(),
  stream: z.boolean({ error: "stream must be a boolean" }).nullish(),
  partial_images: z
    .number({ error: "partial_images must be an integer from 0 to 3" })
    .int("partial_images must be an integer from 0 to 3")
    .min(0, "partial_images must be an integer from 0 to 3")
    .max(3, "partial_images must be an integer from 0 to 3")
    .nullish(),
});
/** Whether the caller asked for a text/event-stream answer. */
export function wantsStream(options: ImageOptions): boolean {
  return options.partialImages !== undefined;
}

/** Names handled here unless the card declares them as its own parameters. */
export const STANDARD_FIELDS: ReadonlySet<string> = new Set(Object.keys(fieldsSchema.shape));

function invalid(message: string, param: string): ServiceError {
  return new ServiceError("invalid_payload", message, { param });
}

/**
 * Validates the standard fields of a request body against the model's
 * capabilities. `edit` says which endpoint asked (input_fidelity belongs to
 * edits only).
 */
export function parseImageOptions(body: Record<string, unknown>, card: ModelCard, context: { edit: boolean; user: string | undefined }): ImageOptions {
  // Fields the card declares as its own parameters are the card's business.
  const own = Object.fromEntries(Object.entries(body).filter(([name]) => STANDARD_FIELDS.has(name) && !Object.hasOwn(card.parameters, name)));
  const parsed = fieldsSchema.safeParse(own);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(issue?.message ?? "invalid field", String(issue?.path[0] ?? ""));
  }
  const fields = parsed.data;
  const outputFormat = fields.output_format ?? "png";
  const capabilities = card.capabilities;

  if (fields.output_compression != null && outputFormat === "png") {
    throw invalid("output_compression applies to output_format 'jpeg' and 'webp' only.", "output_compression");
  }
  if (fields.background === "transparent") {
    if (outputFormat === "jpeg") throw invalid("background 'transparent' needs output_format 'png' or 'webp': JPEG has no transparency.", "background");
    if (!capabilities.transparentBackground) throw invalid(`Model '${card.id}' cannot draw a transparent background.`, "background");
  }
  if (fields.quality != null && fields.quality !== "auto" && !capabilities.qualities.includes(fields.quality)) {
    const offered = capabilities.qualities.length > 0 ? ` It offers: auto, ${capabilities.qualities.join(", ")}.` : " It offers only 'auto'.";
    throw invalid(`quality '${fields.quality}' is not offered by model '${card.id}'.${offered}`, "quality");
  }
  if (fields.style != null && !capabilities.style) {
    throw invalid(`Model '${card.id}' has no styles; leave style out.`, "style");
  }
  if (fields.input_fidelity != null && !context.edit) {
    throw invalid("input_fidelity applies to image edits only.", "input_fidelity");
  }
  if (fields.partial_images != null && fields.partial_images > 0 && fields.stream !== true) {
    throw invalid("partial_images needs stream: true.", "partial_images");
  }

  const options: ImageOptions = { outputFormat };
  if (fields.output_compression != null) options.outputCompression = fields.output_compression;
  if (fields.background != null) options.background = fields.background;
  if (fields.quality != null) options.quality = fields.quality;
  if (fields.style != null) options.style = fields.style;
  if (fields.moderation != null) options.moderation = fields.moderation;
  if (fields.input_fidelity != null) options.inputFidelity = fields.input_fidelity;
  if (fields.stream === true) options.partialImages = fields.partial_images ?? 0;
  if (context.user !== undefined) options.user = context.user;
  // OpenAI's effective identifier: safety_identifier when given and non-empty, else the deprecated user.
  const safetyIdentifier = fields.safety_identifier || context.user;
  if (safetyIdentifier) options.safetyIdentifier = safetyIdentifier;
  return options;
}
