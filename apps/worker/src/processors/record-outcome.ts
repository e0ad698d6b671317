import {
  batchStepJobOptions,
  type BatchLineOutcome,
  type BatchRecords,
  type Failure,
  type GenerateImagePayload,
  type GenerateImageResult,
  type GenerationRecords,
  type Logger,
  type WebhookEmitter,
} from "@imagegen/shared";
import { DelayedError, type Queue } from "bullmq";
import type { GenerateImage } from "./generate-image.js";
import { failureOf } from "./job-failure.js";

export interface RecordOutcomeDeps {
  generations: GenerationRecords;
  batches: BatchRecords;
  batchesQueue: Queue;
  webhooks: WebhookEmitter;
  log: Logger;
}

/**
 * Generation with its outcome kept. A skipped job returns null: nothing ran,
 * nothing was stored. Only retained and batch work is ever skipped, and the
 * API reads their outcome from the record, never from the job's return value.
 */
export type RecordedGenerateImage = (...args: Parameters<GenerateImage>) => Promise<GenerateImageResult | null>;

/** What a skipped job returns. */
const SKIPPED = null;

async function recordBatchLine(deps: RecordOutcomeDeps, payload: GenerateImagePayload, outcome: BatchLineOutcome): Promise<void> {
  const batch = payload.batch!;
  const counter = outcome.outcome === "succeeded" ? "completed" : outcome.outcome === "failed" ? "failed" : "skipped";
  const { lastLine } = await deps.batches.recordLine(batch.batchId, batch.lineIndex, outcome, counter);
  if (lastLine) {
    await deps.batchesQueue.add("finalize", { batchId: batch.batchId, workspaceId: payload.workspaceId }, batchStepJobOptions("finalize", batch.batchId));
  }
}

/**
 * Wraps the generate-image processor for work whose outcome must be kept:
 * batch lines (recorded once per line, counted, and the batch finalized
 * after its last line) and retained generations (async jobs and the like,
 * whose record callers poll and whose end may fire a webhook). Work that was
 * cancelled, or whose batch was cancelled or expired, is skipped before it
 * reaches a GPU.
 */
export function withOutcomeRecording(generate: GenerateImage, deps: RecordOutcomeDeps): RecordedGenerateImage {
  return async (job, payload, token) => {
    // Most jobs are plain synchronous calls: their caller hears the outcome from the job itself.
    if (payload.batch === undefined && payload.retain !== true) return generate(job, payload, token);

    if (payload.batch) {
      const { batchId, lineIndex, customId } = payload.batch;
      const gate = await deps.batches.lineGate(batchId, lineIndex);
      if (gate.recorded) return SKIPPED; // a re-run after a crash
      const expired = gate.expireRequested || Date.now() >= payload.deadlineAt;
      if (!gate.exists || gate.status === "cancelling" || gate.status === "cancelled" || expired) {
        const reason = expired ? "batch_expired" : "batch_cancelled";
        await recordBatchLine(deps, payload, { outcome: "skipped", line: lineIndex, custom_id: customId, reason });
        return SKIPPED;
      }
    } else if (!(await deps.generations.markStarted(payload.requestId))) {
      return SKIPPED; // cancelled while queued
    }

    try {
      const result = await generate(job, payload, token);
      await recordSuccess(deps, payload, result);
      return result;
    } catch (error) {
      // Deferred until an upstream recovers: not an outcome, it runs again later
      // (and `markStarted` lets the same job start again).
      if (error instanceof DelayedError) throw error;
      await recordFailure(deps, payload, failureOf(error));
      throw error;
    }
  };
}

async function recordSuccess(deps: RecordOutcomeDeps, payload: GenerateImagePayload, result: GenerateImageResult): Promise<void> {
  if (payload.batch) {
    await recordBatchLine(deps, payload, {
      outcome: "succeeded",
      line: payload.batch.lineIndex,
      custom_id: payload.batch.customId,
      request_id: payload.requestId,
      response_format: payload.responseFormat,
      created: result.created,
      images: result.images,
    });
    return;
  }
  if (await deps.generations.finish(payload.requestId, { result })) {
    await deps.webhooks.generationEnded(payload.requestId, "image.generation.succeeded");
  }
}

async function recordFailure(deps: RecordOutcomeDeps, payload: GenerateImagePayload, failure: Failure): Promise<void> {
  // Every failure of the generation itself is final (a JobFailure is unrecoverable).
  if (payload.batch && Date.now() >= payload.deadlineAt) {
    // It ran out of completion window, not out of luck: report it expired.
    await recordBatchLine(deps, payload, { outcome: "skipped", line: payload.batch.lineIndex, custom_id: payload.batch.customId, reason: "batch_expired" });
    return;
  }
  if (payload.batch) {
    await recordBatchLine(deps, payload, {
      outcome: "failed",
      line: payload.batch.lineIndex,
      custom_id: payload.batch.customId,
      request_id: payload.requestId,
      failure,
    });
    return;
  }
  if (await deps.generations.finish(payload.requestId, { failure })) {
    await deps.webhooks.generationEnded(payload.requestId, "image.generation.failed");
  }
}
