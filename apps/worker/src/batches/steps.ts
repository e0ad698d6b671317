import { batchStepPayloadSchema, BATCH_STEPS, type BatchStep } from "@imagegen/shared";
import { UnrecoverableError, type Job } from "bullmq";
import type { BatchStepDeps } from "./deps.js";
import { finalizeBatch } from "./finalize.js";
import { ingestBatch } from "./ingest.js";
import { withdrawLines } from "./withdraw.js";

/** A batch in one of these has not ended; a step that gives up ends it from any of them. */
const UNENDED = ["validating", "in_progress", "finalizing", "cancelling"] as const;

async function runStep(deps: BatchStepDeps, step: BatchStep, batchId: string): Promise<void> {
  switch (step) {
    case "ingest":
      return ingestBatch(deps, batchId);
    case "finalize":
      return finalizeBatch(deps, batchId);
    case "cancel":
      return withdrawLines(deps, batchId, "batch_cancelled");
    case "expire": {
      const batch = await deps.batches.get(batchId);
      if (!batch || !["validating", "in_progress"].includes(batch.status)) return;
      deps.log.info("completion window over: expiring the batch's unfinished lines");
      await deps.batches.requestExpiry(batchId);
      if (batch.status === "validating") {
        await deps.batches.transition(batchId, "expired", ["validating"], { expired_at: Math.floor(Date.now() / 1000) });
        return;
      }
      return withdrawLines(deps, batchId, "batch_expired");
    }
  }
}

/**
 * The step's last attempt failed: nothing will run it again, so the batch
 * ends here as `failed`, with the reason in `errors`, rather than sitting in
 * `validating` or `in_progress` until its completion window closes.
 */
async function failBatchAfterStep(deps: BatchStepDeps, batchId: string, step: BatchStep): Promise<void> {
  const batch = await deps.batches.get(batchId);
  if (!batch) return;
  const error = { code: "batch_step_failed", message: `The batch could not be processed (step '${step}' kept failing). Retry with a new batch.`, param: null, line: null };
  const outcome = await deps.batches.transition(batchId, "failed", UNENDED, {
    failed_at: Math.floor(Date.now() / 1000),
    errors: JSON.stringify({ object: "list", data: [error] }),
  });
  if (!outcome?.applied) return;
  await deps.batches.expireFinished(batchId, batch.workspace);
  await deps.webhooks.batchEnded(batchId, "batch.failed");
}

/** The batches queue's processor: one step of a batch's life per job, chosen by the job's name. */
export function createBatchStepProcessor(deps: BatchStepDeps) {
  return async function processBatchStep(job: Job): Promise<void> {
    const payload = batchStepPayloadSchema.safeParse(job.data);
    const step = BATCH_STEPS.find((name) => name === job.name);
    if (!payload.success || !step) throw new UnrecoverableError(`not a batch step: ${job.name}`);
    const { batchId } = payload.data;
    const log = deps.log.child({ batchId, step, workspace: payload.data.workspaceId });
    try {
      await runStep({ ...deps, log }, step, batchId);
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = error instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts;
      if (!lastAttempt) {
        log.warn({ err: error, attempt: job.attemptsMade + 1, attempts }, "batch step failed; it will be retried");
        throw error;
      }
      log.error({ err: error, attempts }, "batch step failed on its last attempt; ending the batch as failed");
      await failBatchAfterStep({ ...deps, log }, batchId, step);
      throw error;
    }
  };
}
