import { randomBytes } from "node:crypto";
import type { Response } from "express";
import type { GenerateImageResult, ImagesResponse, ResponseFormat } from "@imagegen/shared";
import { ServiceError } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";

/**
 * The OpenAI `data` array for stored images: a fresh time-limited link per
 * image for `url`, the bytes read back from storage for `b64_json` (in the
 * stored format: PNG unless the caller chose another output_format).
 */
export async function renderImages(
  result: GenerateImageResult,
  format: ResponseFormat,
  store: ImageStore,
  urlTtlSeconds: number,
): Promise<ImagesResponse> {
  try {
    const data = await Promise.all(
      result.images.map(async (image) => {
        const revised = image.revisedPrompt === undefined ? {} : { revised_prompt: image.revisedPrompt };
        if (format === "url") return { url: await store.signedUrl(image.key, urlTtlSeconds), ...revised };
        return { b64_json: (await store.get(image.key)).toString("base64"), ...revised };
      }),
    );
    // Metadata the worker knew (size, output_format, usage…) follows the data, as in OpenAI's replies.
    return { created: result.created, data, ...result.response };
  } catch (error) {
    throw new ServiceError("service_unavailable", "Image storage is unavailable. Retry with backoff.", { cause: error });
  }
}

/**
 * Answers with the images: the very bytes `res.json(await renderImages(…))`
 * would send, written by sendJsonWithImages.
 */
export async function sendImages(res: Response, result: GenerateImageResult, format: ResponseFormat, store: ImageStore, urlTtlSeconds: number): Promise<void> {
  const response = await renderImages(result, format, store, urlTtlSeconds);
  sendJsonWithImages(res, response, imagesOf(response));
}

/** The base64 images renderImages put in a reply (or a job that carries one): what sendJsonWithImages may write as they are. */
export function imagesOf(reply: { data?: ImagesResponse["data"] | undefined }): string[] {
  return (reply.data ?? []).flatMap((item) => (item.b64_json === undefined ? [] : [item.b64_json]));
}

/**
 * Sends `value` as JSON, the very bytes `res.json(value)` would send, with
 * each `b64_json` string that is one of `images` (base64 we made from
 * stored bytes, see imagesOf) written into the body as it is. Any other
 * string, whatever its key, is stringified as usual: only our base64 is
 * known to need no escaping. Through JSON.stringify each image was copied twice more
 * (into the JSON text on V8's heap, where 1.4 MB strings are born in the old
 * generation, then into UTF-8 bytes): 1.8 ms of CPU per 1 MB image against
 * 0.4 ms (bench/README.md, "Large images, continued"). Base64 text needs no
 * JSON escaping, so only the rest goes through JSON.stringify, with a
 * stand-in for each image that no other value can contain (it carries a
 * random nonce).
 */
export function sendJsonWithImages(res: Response, value: unknown, images: readonly string[]): void {
  // No image of ours (`url` replies, jobs still running): nothing to swap, so no nonce and no replacer walk.
  if (images.length === 0) {
    res.json(value);
    return;
  }
  const nonce = randomBytes(12).toString("hex");
  const base64: string[] = [];
  // Each stand-in takes its image's place (and key order) in the reply; the replacer meets them in text order.
  const text = JSON.stringify(value, (key, item: unknown) => {
    if (key !== "b64_json" || typeof item !== "string" || !images.includes(item)) return item;
    base64.push(item);
    return `b64-${nonce}-${base64.length - 1}`;
  });
  const json = "application/json; charset=utf-8";
  if (base64.length === 0) {
    res.type(json).send(text);
    return;
  }

  // The reply as pieces: JSON text, an image's base64, JSON text, …
  const pieces: Array<{ text: string; encoding: "utf8" | "latin1" }> = [];
  let from = 0;
  base64.forEach((image, index) => {
    const standIn = `"b64-${nonce}-${index}"`;
    const at = text.indexOf(standIn, from);
    pieces.push({ text: `${text.slice(from, at)}"`, encoding: "utf8" }, { text: image, encoding: "latin1" });
    from = at + standIn.length - 1;
  });
  pieces.push({ text: text.slice(from), encoding: "utf8" });

  const body = Buffer.allocUnsafe(pieces.reduce((bytes, piece) => bytes + Buffer.byteLength(piece.text, piece.encoding), 0));
  let at = 0;
  for (const piece of pieces) at += body.write(piece.text, at, piece.encoding);
  res.type(json).send(body);
}
