import type { JobsOptions } from "bullmq";
import { z } from "zod";

/**
 * The batches queue: the steps of a batch's life that are not image work.
 * `ingest` validates the input file and dispatches one generate-image job per
 * line; `finalize` writes the output and error files; `cancel` and `expire`
 * withdraw lines that have not started. Ids derive from the batch id, so a
 * step is never queued twice.
 */
export const BATCHES_QUEUE = "batches";

export const BATCH_STEPS = ["ingest", "finalize", "cancel", "expire"] as const;
export type BatchStep = (typeof BATCH_STEPS)[number];

export const batchStepPayloadSchema = z.object({
  batchId: z.string().min(1),
  workspaceId: z.string().min(1),
});
export type BatchStepPayload = z.infer<typeof batchStepPayloadSchema>;

export function batchStepJobOptions(step: BatchStep, batchId: string, delayMs = 0): JobsOptions {
  return {
    jobId: `${batchId}-${step}`,
    delay: delayMs,
    // Steps are idempotent; a few attempts ride out a Redis or storage blip.
    attempts: 5,
    backoff: { type: "exponential", delay: 1000 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Lines of one batch are numbered; a line's job id and request id is `{batchId}-{index}`. */
export function batchLineRequestId(batchId: string, lineIndex: number): string {
  return `${batchId}-${lineIndex}`;
}

/**
 * Priority of a batch line. Lines of every batch start at the batch base and
 * grow with their index, so a new 10-line batch interleaves with the head of
 * a 100,000-line one instead of waiting behind all of it.
 */
export const BATCH_BASE_PRIORITY = 10;
const MAX_PRIORITY = 2 ** 21 - 1;
export function batchLinePriority(lineIndex: number): number {
  return Math.min(MAX_PRIORITY, BATCH_BASE_PRIORITY + lineIndex);
}
