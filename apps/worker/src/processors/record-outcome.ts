import {
  batchStepJobOptions,
  decodeFailure,
  generateImagePayloadSchema,
  type BatchLineOutcome,
  type BatchRecords,
  type GenerateImagePayload,
  type GenerateImageResult,
  type GenerationRecords,
  type Logger,
} from "@imagegen/shared";
import { DelayedError, type Job, type Queue } from "bullmq";
import type { WebhookEmitter } from "@imagegen/shared";

export interface RecordOutcomeDeps {
  generations: GenerationRecords;
  batches: BatchRecords;
  batchesQueue: Queue;
  webhooks: WebhookEmitter;
  log: Logger;
}

type Processor = (job: Job, token?: string) => Promise<GenerateImageResult>;

/** What a skipped job returns: nothing ran, nothing was stored. */
const SKIPPED = undefined as unknown as GenerateImageResult;

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
export function withOutcomeRecording(processor: Processor, deps: RecordOutcomeDeps): Processor {
  return async (job, token) => {
    // Most jobs are plain synchronous calls: hand them straight on (the
    // processor validates the payload itself) instead of parsing it twice.
    const raw = job.data as { batch?: unknown; retain?: unknown } | undefined;
    if (raw?.batch === undefined && raw?.retain !== true) return processor(job, token);
    const parsed = generateImagePayloadSchema.safeParse(job.data);
    if (!parsed.success) return processor(job, token);
    const payload = parsed.data;

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
      const result = await processor(job, token);
      await recordSuccess(deps, payload, result);
      return result;
    } catch (error) {
      // Deferred until an upstream recovers: not an outcome, it runs again later
      // (and `markStarted` lets the same job start again).
      if (error instanceof DelayedError) throw error;
      await recordFailure(deps, payload, (error as Error).message);
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

async function recordFailure(deps: RecordOutcomeDeps, payload: GenerateImagePayload, failedReason: string): Promise<void> {
  // Every failure of this processor is final (attempts: 1; see the queue module).
  const failure = decodeFailure(failedReason);
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
