import { batchLineRequestId, batchStepJobOptions } from "@imagegen/shared";
import type { BatchStepDeps } from "./deps.js";

/** Lines checked per round of concurrent removals. */
const WITHDRAW_CHUNK = 200;

/**
 * Takes back the lines of a cancelled or expired batch that no worker has
 * started: each is removed from the queue and recorded as skipped, so the
 * counts still add up. Lines already at an upstream finish and are counted;
 * lines never dispatched are recorded here too.
 */
export async function withdrawLines(deps: BatchStepDeps, batchId: string, reason: "batch_cancelled" | "batch_expired"): Promise<void> {
  const batch = await deps.batches.get(batchId);
  if (!batch) return;
  if (batch.total === 0 || batch.status === "validating") {
    // Nothing dispatched yet: the ingest step sees the status and stops.
    if (batch.status !== "validating") {
      await deps.batchesQueue.add("finalize", { batchId, workspaceId: batch.workspace }, batchStepJobOptions("finalize", batchId));
    }
    return;
  }
  const dispatched = batch.dispatched ?? 0;
  for (let start = 0; start < batch.total; start += WITHDRAW_CHUNK) {
    const indexes = Array.from({ length: Math.min(WITHDRAW_CHUNK, batch.total - start) }, (_, offset) => start + offset);
    const recorded = await deps.batches.readLines(batchId, start, indexes.length);
    // Out of the batch lane first, so no dispatcher releases a line being withdrawn.
    await deps.lanes.withdraw(
      batch.workspace,
      indexes.filter((index, position) => recorded[position] === null && index < dispatched).map((index) => batchLineRequestId(batchId, index)),
    );
    await Promise.all(
      indexes.map(async (index, position) => {
        if (recorded[position] !== null) return;
        const neverQueued = index >= dispatched;
        const removed = neverQueued || (await deps.generateQueue.remove(batchLineRequestId(batchId, index)).catch(() => 0)) === 1;
        if (!removed) return; // running, or finishing: it records itself
        const { lastLine } = await deps.batches.recordLine(batchId, index, { outcome: "skipped", line: index, custom_id: "", reason }, "skipped");
        if (lastLine) {
          await deps.batchesQueue.add("finalize", { batchId, workspaceId: batch.workspace }, batchStepJobOptions("finalize", batchId));
        }
      }),
    );
  }
}
