import { batchStepPayloadSchema, BATCH_STEPS } from "@imagegen/shared";
import { UnrecoverableError, type Job } from "bullmq";
import type { BatchStepDeps } from "./deps.js";
import { finalizeBatch } from "./finalize.js";
import { ingestBatch } from "./ingest.js";
import { withdrawLines } from "./withdraw.js";

/** The batches queue's processor: one step of a batch's life per job, chosen by the job's name. */
export function createBatchStepProcessor(deps: BatchStepDeps) {
  return async function processBatchStep(job: Job): Promise<void> {
    const payload = batchStepPayloadSchema.safeParse(job.data);
    const step = BATCH_STEPS.find((name) => name === job.name);
    if (!payload.success || !step) throw new UnrecoverableError(`not a batch step: ${job.name}`);
    const { batchId } = payload.data;
    const log = deps.log.child({ batchId, step, workspace: payload.data.workspaceId });
    switch (step) {
      case "ingest":
        return ingestBatch({ ...deps, log }, batchId);
      case "finalize":
        return finalizeBatch({ ...deps, log }, batchId);
      case "cancel":
        return withdrawLines({ ...deps, log }, batchId, "batch_cancelled");
      case "expire": {
        const batch = await deps.batches.get(batchId);
        if (!batch || !["validating", "in_progress"].includes(batch.status)) return;
        log.info("completion window over: expiring the batch's unfinished lines");
        await deps.batches.requestExpiry(batchId);
        if (batch.status === "validating") {
          await deps.batches.transition(batchId, "expired", ["validating"], { expired_at: Math.floor(Date.now() / 1000) });
          return;
        }
        return withdrawLines({ ...deps, log }, batchId, "batch_expired");
      }
    }
  };
}
