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
