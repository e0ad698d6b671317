import type { ModelCatalog } from "../catalog/load.js";
import type { ModelCard } from "../catalog/schema.js";
import { findModel, parseImageRequestBody, type ImageGenerationRequest } from "./images.js";

/**
 * `POST /v1/images/edits` (OpenAI's CreateImageEditRequest) arrives as
 * multipart/form-data, so every field is text: the official SDKs send
 * numbers and booleans as their string form. They are turned back into
 * JSON values here (OpenAI's numeric and boolean fields, and the card's own
 * parameters by their declared type) and then checked exactly as a
 * generation's JSON body is.
 */
const INTEGER_FIELDS: ReadonlySet<string> = new Set(["n", "output_compression", "partial_images"]);
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(["stream"]);

function coerce(name: string, text: string, card: ModelCard): unknown {
  const spec = Object.hasOwn(card.parameters, name) ? card.parameters[name] : undefined;
  const numeric = INTEGER_FIELDS.has(name) || spec?.type === "integer" || spec?.type === "number";
  // Left as text when it is not a number: the schema then names the field.
  if (numeric) return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
  if (BOOLEAN_FIELDS.has(name) || spec?.type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  return text;
}

export interface EditUploadSummary {
  imageCount: number;
  hasMask: boolean;
}

export function parseImageEditRequest(
  fields: Readonly<Record<string, string>>,
  uploads: EditUploadSummary,
  catalog: ModelCatalog,
): { request: ImageGenerationRequest; card: ModelCard; sizeIsAuto: boolean } {
  // The model decides how the other fields read; an unknown one is model_not_found before anything else.
  const card = typeof fields.model === "string" && fields.model !== "" ? findModel(catalog, fields.model) : undefined;
  // fromEntries defines own properties: a field named __proto__ stays a field (and is refused as unknown).
  const body = Object.fromEntries(Object.entries(fields).map(([name, text]) => [name, card === undefined ? text : coerce(name, text, card)]));
  return parseImageRequestBody(body, catalog, { kind: "edit", ...uploads });
}
