import { ServiceError, toErrorBody, type GenerateImageResult, type ImageOptions, type Logger, type PartialImageMessage } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import type { Response } from "express";
import type { SubmitOutcome } from "../generations/generation-service.js";
import type { PartialRelay } from "./partial-relay.js";

/**
 * `stream: true`: OpenAI's text/event-stream answer. Partial images relayed
 * from the worker arrive as `image_generation.partial_image` (or
 * `image_edit.…`), the result as `….completed` with the reply's metadata;
 * a failure once the stream has begun is an `error` event in the error
 * envelope's shape, which the official SDKs raise as an APIError.
 */
export type StreamKind = "image_generation" | "image_edit";

function eventText(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function streamImages(
  res: Response,
  deps: { relay: PartialRelay; store: ImageStore; log: Logger },
  stream: { kind: StreamKind; jobId: string; size: string; options: ImageOptions },
  run: () => Promise<SubmitOutcome>,
): Promise<void> {
  const { kind, options } = stream;
  const common = { quality: options.quality ?? "auto", background: options.background ?? "auto", output_format: options.outputFormat };
  const write = (text: string) => {
    if (!res.writableEnded && !res.destroyed) res.write(text);
  };
  const onPartial = (message: PartialImageMessage) =>
    write(eventText(`${kind}.partial_image`, { type: `${kind}.partial_image`, b64_json: message.b64, partial_image_index: message.index, created_at: message.createdAt, size: message.size, ...common }));
  // Listen before the job is queued, so no preview is missed.
  const stopListening = await deps.relay.listen(stream.jobId, onPartial);
  try {
    res.status(200).set({ "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
    res.flushHeaders();
    const outcome = await run();
    if (outcome.status !== "done") throw new ServiceError("upstream_timeout", "The image was not ready in time; poll the job instead of streaming.");
    for (const event of await completedEvents(outcome.result, kind, stream.size, common, deps.store)) write(eventText(`${kind}.completed`, event));
  } catch (error) {
    const failure = error instanceof ServiceError ? error : new ServiceError("internal_error", undefined, { cause: error });
    if (!(error instanceof ServiceError)) deps.log.error({ err: error }, "stream failed");
    write(eventText("error", toErrorBody(failure)));
  } finally {
    stopListening();
    if (!res.writableEnded) res.end();
  }
}

async function completedEvents(result: GenerateImageResult, kind: StreamKind, size: string, common: object, store: ImageStore): Promise<object[]> {
  const response = result.response ?? {};
  try {
    return await Promise.all(
      result.images.map(async (image) => ({
        type: `${kind}.completed`,
        b64_json: (await store.get(image.key)).toString("base64"),
        created_at: result.created,
        size: response.size ?? size,
        ...common,
        ...(response.background === undefined ? {} : { background: response.background }),
        ...(response.safety_identifier === undefined ? {} : { safety_identifier: response.safety_identifier }),
        ...(response.usage === undefined ? {} : { usage: response.usage }),
      })),
    );
  } catch (error) {
    throw new ServiceError("service_unavailable", "Image storage is unavailable. Retry with backoff.", { cause: error });
  }
}
