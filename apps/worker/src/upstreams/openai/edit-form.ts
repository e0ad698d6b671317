import type { UpstreamImageRequest } from "../upstream.js";
import { openAiStandardFields } from "./standard-fields.js";

const EXTENSIONS: Readonly<Record<string, string>> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

/**
 * OpenAI's CreateImageEditRequest as multipart: `image` for one input,
 * `image[]` for several (what the official SDKs send), `mask`, and every
 * other field as text.
 */
export function openAiEditForm(
  request: UpstreamImageRequest & { edit: NonNullable<UpstreamImageRequest["edit"]> },
  streaming?: { partial_images: number },
): FormData {
  const form = new FormData();
  const { images, mask } = request.edit;
  const field = images.length === 1 ? "image" : "image[]";
  images.forEach((image, index) => {
    form.append(field, new Blob([image.bytes], { type: image.contentType }), `image-${index}.${EXTENSIONS[image.contentType] ?? "png"}`);
  });
  if (mask !== undefined) form.append("mask", new Blob([mask.bytes], { type: mask.contentType }), "mask.png");
  const text: Record<string, string | number | boolean> = {
    ...request.parameters,
    ...openAiStandardFields(request.options),
    model: request.model,
    prompt: request.prompt,
    n: request.n,
    size: request.size,
    response_format: "b64_json",
    ...(streaming === undefined ? {} : { stream: true, ...streaming }),
  };
  for (const [name, value] of Object.entries(text)) form.append(name, String(value));
  return form;
}
