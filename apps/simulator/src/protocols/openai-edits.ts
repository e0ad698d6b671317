import { z } from "zod";
import type { FileStore } from "../file-store.js";
import { readMultipartBody } from "../http-io.js";
import { parseGenerationRequest, type ParseResult } from "../protocol.js";
import type { SyncDialect } from "./dialect.js";
import { createOpenAiDialect } from "./openai.js";

/**
 * `POST /v1/images/edits` (multipart, as OpenAI's CreateImageEditRequest):
 * `image` or `image[]` files, an optional `mask`, and the generation fields
 * as text. Answers exactly as generations do.
 */
const MAX_INPUT_IMAGES = 16;
const buffer = z.instanceof(Buffer);
const editFilesSchema = z.looseObject({
  image: buffer.optional(),
  "image[]": z.array(buffer).max(MAX_INPUT_IMAGES, { error: `at most ${MAX_INPUT_IMAGES} images` }).optional(),
  mask: buffer.optional(),
});
const integerText = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${name} must be an integer` })
    .transform(Number)
    .optional();

function parseEdit(body: unknown): ParseResult {
  const files = editFilesSchema.safeParse(body);
  if (!files.success) return { ok: false, message: files.error.issues[0]?.message ?? "invalid files", param: "image" };
  const images = [...(files.data.image ? [files.data.image] : []), ...(files.data["image[]"] ?? [])];
  if (images.length === 0) return { ok: false, message: "image is required", param: "image" };
  const fields = z
    .looseObject({ n: integerText("n"), seed: integerText("seed"), partial_images: integerText("partial_images"), stream: z.enum(["true", "false"]).optional() })
    .safeParse(body);
  if (!fields.success) return { ok: false, message: fields.error.issues[0]?.message ?? "invalid field", param: String(fields.error.issues[0]?.path[0] ?? "") };
  const { image: _image, "image[]": _images, mask, ...text } = files.data;
  const { n, seed, partial_images: partialImages, stream } = fields.data;
  const parsed = parseGenerationRequest({ ...text, n, seed, partial_images: partialImages, stream: stream === undefined ? undefined : stream === "true" });
  if (!parsed.ok) return parsed;
  return { ok: true, request: { ...parsed.request, edit: { images, mask } } };
}

export function createOpenAiEditDialect(files: FileStore): SyncDialect {
  return { ...createOpenAiDialect(files), name: "openai-edits", readBody: readMultipartBody, parse: parseEdit };
}
