import { ServiceError, type ImageOptions, type ImageUsage, type ImagesResponse } from "@imagegen/shared";
import type { GeneratedImage } from "../upstreams/upstream.js";
import { ImageLibraryUnavailableError } from "./sharp.js";
import { imageSize, transcodeImage } from "./transcode.js";

export type ResponseMetadata = Omit<ImagesResponse, "created" | "data">;

/** Sums the usage the replies reported; undefined when none did (never invented). */
function totalUsage(images: readonly GeneratedImage[]): ImageUsage | undefined {
  const reported = images.flatMap((image) => (image.usage === undefined ? [] : [image.usage]));
  if (reported.length === 0) return undefined;
  return reported.reduce((sum, usage) => ({
    input_tokens: sum.input_tokens + usage.input_tokens,
    output_tokens: sum.output_tokens + usage.output_tokens,
    total_tokens: sum.total_tokens + usage.total_tokens,
  }));
}

/**
 * The upstream's images in the caller's output format, and the metadata
 * OpenAI's reply carries, each field only when it is known.
 */
export async function finishImages(
  images: readonly GeneratedImage[],
  options: ImageOptions | undefined,
  requestedSize: string,
  /** Told how long each image that had to be re-encoded took. */
  onTranscoded: (format: string, seconds: number) => void = () => {},
): Promise<{ images: GeneratedImage[]; response: ResponseMetadata }> {
  const encoding = options ?? { outputFormat: "png" as const };
  let finished: GeneratedImage[];
  try {
    finished = await Promise.all(
      images.map(async (image) => {
        const startedMs = performance.now();
        const encoded = await transcodeImage(image, encoding);
        if (encoded !== image) onTranscoded(encoding.outputFormat, (performance.now() - startedMs) / 1000);
        return { ...image, ...encoded };
      }),
    );
  } catch (error) {
    if (error instanceof ImageLibraryUnavailableError) throw error;
    throw new ServiceError("upstream_invalid_response", "The model returned an image that does not decode.", { cause: error });
  }
  const size = (finished[0] === undefined ? undefined : await imageSize(finished[0].bytes).catch(() => undefined)) ?? requestedSize;
  const background = encoding.outputFormat === "jpeg" || encoding.background === "opaque" ? "opaque" : encoding.background === "transparent" ? "transparent" : undefined;
  const usage = totalUsage(images);
  const response: ResponseMetadata = { size, output_format: encoding.outputFormat };
  if (options?.quality !== undefined && options.quality !== "auto") response.quality = options.quality;
  if (background !== undefined) response.background = background;
  if (options?.safetyIdentifier !== undefined) response.safety_identifier = options.safetyIdentifier;
  if (usage !== undefined) response.usage = usage;
  return { images: finished, response };
}
