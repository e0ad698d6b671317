import type { ImagesResponse } from "./images.js";
import type { ErrorBody } from "../errors/service-error.js";
import type { GenerationRecord } from "../records/generation-records.js";

/**
 * An async generation as callers poll it: status, and once it has ended the
 * same `created`, `data` and metadata as the synchronous call, or the error
 * envelope of its failure.
 */
export function toGenerationJobObject(
  record: GenerationRecord,
  extra: { queuePosition?: number | undefined; response?: ImagesResponse | undefined; error?: ErrorBody["error"] | undefined },
) {
  return {
    id: record.id,
    object: "image.generation.job" as const,
    status: record.status,
    model: record.model,
    created_at: record.created_at,
    started_at: record.started_at ?? null,
    completed_at: record.completed_at ?? record.cancelled_at ?? null,
    ...(extra.queuePosition === undefined ? {} : { queue_position: extra.queuePosition }),
    // The synchronous call's whole reply: created, data and whatever metadata is known (size, output_format…).
    ...(extra.response ?? {}),
    ...(extra.error ? { error: extra.error } : {}),
  };
}
export type GenerationJobObject = ReturnType<typeof toGenerationJobObject>;
