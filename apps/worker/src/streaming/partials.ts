import { MAX_PARTIAL_IMAGE_BYTES, partialImagesChannel, type GenerateImagePayload, type Logger, type PartialImageMessage, type RedisClient } from "@imagegen/shared";
import { transcodeImage } from "../images/transcode.js";
import { imageContentType, type UpstreamPartials } from "../upstreams/upstream.js";

/** Where a worker sends a streaming job's partial images: the API replica holding the caller listens. */
export interface PartialPublisher {
  publish(jobId: string, message: PartialImageMessage): Promise<void>;
}

export function createPartialPublisher(redis: RedisClient, prefix: string): PartialPublisher {
  return {
    async publish(jobId, message) {
      await redis.publish(partialImagesChannel(prefix, jobId), JSON.stringify(message));
    },
  };
}

/**
 * The partials hook of a streaming job: each upstream preview is put in the
 * caller's output format and relayed in order. A preview that cannot be
 * relayed (too large, Redis away) is dropped and logged: the final image is
 * what the caller cannot do without.
 */
export function partialsFor(
  payload: GenerateImagePayload,
  publisher: PartialPublisher | undefined,
  log: Logger,
): (UpstreamPartials & { drain(): Promise<void> }) | undefined {
  const count = payload.options?.partialImages ?? 0;
  if (publisher === undefined || count === 0) return undefined;
  const encoding = payload.options ?? { outputFormat: "png" as const };
  let next = 0;
  let chain = Promise.resolve();
  return {
    count,
    emit(image) {
      const index = next++;
      if (index >= count) return;
      chain = chain
        .then(async () => {
          const contentType = imageContentType(image) ?? "image/png";
          const { bytes } = await transcodeImage({ bytes: image, contentType }, encoding);
          if (bytes.length > MAX_PARTIAL_IMAGE_BYTES) return void log.warn({ bytes: bytes.length }, "partial image too large to relay");
          await publisher.publish(payload.requestId, { index, b64: bytes.toString("base64"), size: payload.size, createdAt: Math.floor(Date.now() / 1000) });
        })
        .catch((error: unknown) => log.warn({ err: error }, "could not relay a partial image"));
    },
    /** Resolves once every partial emitted so far is relayed, so none arrives after the final image. */
    drain: () => chain,
  };
}
