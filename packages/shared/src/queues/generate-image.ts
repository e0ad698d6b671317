import type { JobsOptions } from "bullmq";
import { z } from "zod";
import { failureSchema, fromFailure, type Failure } from "../basics/failure.js";
import { imageOptionsSchema } from "../basics/image-options.js";
import { RESPONSE_FORMATS } from "../basics/images.js";
import type { ServiceError } from "../errors/service-error.js";

/**
 * The generate-image queue: one job per generation request. The API imports
 * this module to enqueue, the worker to consume; nothing else names the queue.
 */
export const GENERATE_IMAGE_QUEUE = "generate-image";

/**
 * Where a job sits in line. BullMQ serves its plain wait list before any
 * prioritized job, so synchronous calls (a caller holding a connection) carry
 * no priority at all and always go first; queued work follows by priority.
 */
export const JOB_PRIORITY = {
  sync: undefined,
  async: 1,
  batch: 10,
} as const;
export type JobKind = keyof typeof JOB_PRIORITY;

/** An edit's input image or mask in the image store. */
export const storedInputSchema = z.object({ key: z.string().min(1), contentType: z.string() });
export type StoredInput = z.infer<typeof storedInputSchema>;

export const generateImagePayloadSchema = z.object({
  /** Our request id; also the job id, so one request is never queued twice. */
  requestId: z.string().min(1),
  workspaceId: z.string().min(1),
  kind: z.enum(["sync", "async", "batch"]),
  model: z.string().min(1),
  prompt: z.string().min(1),
  n: z.number().int().min(1),
  size: z.string(),
  responseFormat: z.enum(RESPONSE_FORMATS),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** OpenAI's standard fields; absent on jobs queued before they existed (PNG, model defaults). */
  options: imageOptionsSchema.optional(),
  /** Set for an edit: where its inputs wait in storage (keys, never the bytes). */
  edit: z
    .object({
      images: z.array(storedInputSchema).min(1).max(16),
      mask: storedInputSchema.optional(),
    })
    .optional(),
  /** Epoch ms after which nobody wants the result: the worker skips or aborts. */
  deadlineAt: z.number().int(),
  /** Keep the outcome in a generation record that callers can poll (async, `Prefer: wait`, Idempotency-Key). */
  retain: z.boolean().optional(),
  /** Set on the lines of a batch: where the outcome is recorded. */
  batch: z.object({ batchId: z.string(), lineIndex: z.number().int().nonnegative(), customId: z.string() }).optional(),
});
export type GenerateImagePayload = z.infer<typeof generateImagePayloadSchema>;

/**
 * Job options shared by every kind. Jobs are retried once per crash-level
 * fault only through BullMQ's stalled-job recovery; upstream retries happen
 * inside the upstream client, so the two layers never multiply.
 */
export function generateImageJobOptions(
  payload: GenerateImagePayload,
  priority: number | undefined = JOB_PRIORITY[payload.kind],
): JobsOptions {
  // BullMQ trims finished jobs by count and age across the whole queue, so
  // work whose outcome must outlive that trimming (async jobs, batch lines)
  // keeps it in its own record and leaves BullMQ at once.
  const keptElsewhere = payload.retain === true || payload.batch !== undefined;
  return {
    jobId: payload.requestId,
    ...(priority === undefined ? {} : { priority }),
    // Failures with a public meaning are final (UnrecoverableError) whatever
    // this says; kept work gets more attempts only to ride out an
    // infrastructure error while its outcome is being recorded.
    ...(keptElsewhere ? { attempts: 3, backoff: { type: "exponential", delay: 2000 } } : { attempts: 1 }),
    // Results hold storage keys only; keep them long enough for debugging,
    // and bounded so Redis memory stays flat under load.
    removeOnComplete: keptElsewhere ? true : { age: 3600, count: 10_000 },
    removeOnFail: keptElsewhere ? true : { age: 24 * 3600, count: 10_000 },
  };
}

const FAILURE_PREFIX = "failure:";

/**
 * BullMQ keeps only a failed job's message (`failedReason`), so a failure with
 * a public meaning is written there as tagged JSON and read back on the other
 * side. Anything else (a stalled job, a bug) is our own fault: a plain 500.
 */
export function encodeFailure(failure: Failure): string {
  return FAILURE_PREFIX + JSON.stringify(failure);
}

export function decodeFailure(failedReason: string | undefined): Failure {
  if (failedReason?.startsWith(FAILURE_PREFIX)) {
    try {
      const parsed = failureSchema.safeParse(JSON.parse(failedReason.slice(FAILURE_PREFIX.length)));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through to the generic failure
    }
  }
  return { code: "internal_error", message: "The server had an error while processing your request.", param: null };
}

export function failureToError(failedReason: string | undefined): ServiceError {
  return fromFailure(decodeFailure(failedReason));
}

/**
 * One partial image relayed from the worker to the API through Redis
 * pub/sub (never through the job's return value). Bounded: a preview larger
 * than MAX_PARTIAL_IMAGE_BYTES is not relayed.
 */
export const MAX_PARTIAL_IMAGE_BYTES = 4 * 1024 * 1024;
export const partialImageMessageSchema = z.object({
  /** 0-based, as OpenAI's partial_image_index. */
  index: z.number().int().min(0),
  /** Base64 of the preview, in the caller's output format. */
  b64: z.string().max(Math.ceil(MAX_PARTIAL_IMAGE_BYTES / 3) * 4),
  size: z.string(),
  createdAt: z.number().int(),
});
export type PartialImageMessage = z.infer<typeof partialImageMessageSchema>;
