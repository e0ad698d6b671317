import {
  addBatchLinesFairly,
  batchLinePriority,
  batchLineRequestId,
  batchStepJobOptions,
  generateImageJobOptions,
  type BatchLineError,
  type BatchRecord,
  type GenerateImagePayload,
} from "@imagegen/shared";
import type { BatchStepDeps } from "./deps.js";
import { readJsonlLines } from "./read-lines.js";
import { MAX_BATCH_REQUESTS, MAX_REPORTED_ERRORS, validateInputLine } from "./validate-input.js";

/**
 * Lines added to the queue per round trip: what ingest holds at once, as
 * parsed payloads and BullMQ's job objects, until Redis has them. Small,
 * because those objects live across the round trip and are promoted to the
 * old generation when a young collection finds them alive: with 500, two
 * batches ingesting together grew the worker's old space to 130-140 MB of
 * mostly dead objects before the first full collection (bench/README.md,
 * memory). Parsing a line costs far more than its share of a round trip.
 */
export const DISPATCH_CHUNK = 100;

async function failValidation(deps: BatchStepDeps, batch: BatchRecord, errors: BatchLineError[]): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const outcome = await deps.batches.transition(batch.id, "failed", ["validating"], {
    failed_at: now,
    errors: JSON.stringify({ object: "list", data: errors }),
  });
  if (outcome?.applied) {
    await deps.batches.expireFinished(batch.id, batch.workspace);
    await deps.webhooks.batchEnded(batch.id, "batch.failed");
  }
}

/** Pass 1: every line checked, nothing run. Returns the line count or the errors. */
async function validateFile(deps: BatchStepDeps, key: string): Promise<{ total: number; errors: BatchLineError[] }> {
  const seen = new Set<string>();
  const errors: BatchLineError[] = [];
  let total = 0;
  for await (const { lineNumber, text } of readJsonlLines(deps.fileStore, key)) {
    total++;
    if (total > MAX_BATCH_REQUESTS) {
      // Stop reading: the file could hold millions more.
      const limit = MAX_BATCH_REQUESTS.toLocaleString("en");
      return { total, errors: [{ code: "too_many_requests", message: `The input file has more than ${limit} requests; a batch holds at most ${limit}.`, param: null, line: null }] };
    }
    const checked = validateInputLine(text, lineNumber, deps.catalog, seen);
    if (!checked.ok && errors.length < MAX_REPORTED_ERRORS) errors.push(checked.error);
  }
  if (total === 0) errors.push({ code: "empty_file", message: "The input file has no requests.", param: null, line: null });
  return { total, errors };
}

/** Pass 2: one generate-image job per line, in chunks; resumes after a crash from what was dispatched. */
async function dispatchLines(deps: BatchStepDeps, batch: BatchRecord, key: string): Promise<void> {
  const alreadyDispatched = batch.dispatched ?? 0;
  const seen = new Set<string>();
  let chunk: Array<{ data: GenerateImagePayload; opts: ReturnType<typeof generateImageJobOptions>; lineIndex: number }> = [];
  let index = -1;
  const flush = async () => {
    if (chunk.length === 0) return;
    await addBatchLinesFairly(deps.fair, batch.workspace, chunk);
    await deps.batches.markDispatched(batch.id, index + 1);
    chunk = [];
  };
  for await (const { lineNumber, text } of readJsonlLines(deps.fileStore, key)) {
    index++;
    const checked = validateInputLine(text, lineNumber, deps.catalog, seen);
    if (index < alreadyDispatched) continue;
    if (!checked.ok) throw new Error(`input file ${batch.input_file_id} changed after validation (line ${lineNumber})`);
    const requestId = batchLineRequestId(batch.id, index);
    if (checked.refusal) {
      // Refused as the endpoint would refuse it: recorded now, never queued.
      const outcome = { outcome: "failed" as const, line: index, custom_id: checked.customId, request_id: requestId, failure: checked.refusal };
      const { lastLine } = await deps.batches.recordLine(batch.id, index, outcome, "failed");
      if (lastLine) await deps.batchesQueue.add("finalize", { batchId: batch.id, workspaceId: batch.workspace }, batchStepJobOptions("finalize", batch.id));
      continue;
    }
    const payload: GenerateImagePayload = {
      requestId,
      workspaceId: batch.workspace,
      kind: "batch",
      model: checked.request.model,
      prompt: checked.request.prompt,
      n: checked.request.n,
      size: checked.request.size,
      responseFormat: checked.request.responseFormat,
      parameters: checked.request.parameters,
      options: checked.request.options,
      deadlineAt: batch.expires_at * 1000,
      batch: { batchId: batch.id, lineIndex: index, customId: checked.customId },
    };
    chunk.push({ lineIndex: index, data: payload, opts: generateImageJobOptions(payload, batchLinePriority(index)) });
    if (chunk.length >= DISPATCH_CHUNK) {
      await flush();
      // A cancel or expiry during dispatch: stop adding; the withdraw step
      // accounts for lines never dispatched.
      const current = await deps.batches.get(batch.id);
      if (!current || current.status !== "in_progress" || current.expire_requested) return;
    }
  }
  await flush();
}

/**
 * The ingest step: validate the whole input file, then dispatch its lines.
 * Re-running it is safe: validation ends where it ended before, and lines are
 * re-added under the same job ids, which BullMQ and the line records dedupe.
 */
export async function ingestBatch(deps: BatchStepDeps, batchId: string): Promise<void> {
  const batch = await deps.batches.get(batchId);
  if (!batch) return;
  const file = await deps.files.get(batch.input_file_id, batch.workspace);
  if (batch.status === "validating") {
    if (!file) {
      await failValidation(deps, batch, [{ code: "file_not_found", message: `No file with id '${batch.input_file_id}'.`, param: "input_file_id", line: null }]);
      return;
    }
    const { total, errors } = await validateFile(deps, file.storage_key);
    if (errors.length > 0) return failValidation(deps, batch, errors);
    const started = await deps.batches.startRunning(batch.id, total);
    if (!started?.applied) {
      // Cancelled while validating: nothing ran; end it.
      await deps.batchesQueue.add("finalize", { batchId, workspaceId: batch.workspace }, batchStepJobOptions("finalize", batchId));
      return;
    }
    deps.log.info({ batchId, lines: total }, "batch validated; dispatching lines");
  }
  const running = await deps.batches.get(batchId);
  if (!running || running.status !== "in_progress" || !file) return;
  await dispatchLines(deps, running, file.storage_key);
  deps.log.info({ batchId }, "batch lines dispatched");
}
