import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { batchFileKey } from "@imagegen/storage";
import { batchLineOutcomeSchema, type BatchRecord } from "@imagegen/shared";
import type { BatchStepDeps } from "./deps.js";
import { readJsonlLines } from "./read-lines.js";
import { z } from "zod";

const READ_CHUNK = 1000;

/** All finalize reads of an input line: validation has already checked the rest. */
const inputLineIdSchema = z.object({ custom_id: z.string() });

/**
 * Output file ids derive from the (unguessable) batch id, so a finalize step
 * that runs twice rewrites the same files instead of leaving orphans.
 */
function derivedFileId(batchId: string, kind: "output" | "errors"): string {
  return `file-${createHash("sha256").update(`${batchId}:${kind}`).digest("hex").slice(0, 24)}`;
}

interface WrittenFile {
  path: string;
  lines: number;
}

/** The custom_id of every input line, in order, read from the input file as it streams. */
async function* customIds(deps: BatchStepDeps, batch: BatchRecord): AsyncGenerator<string | undefined> {
  const file = await deps.files.get(batch.input_file_id, batch.workspace);
  if (!file) return;
  for await (const { text } of readJsonlLines(deps.fileStore, file.storage_key)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      yield undefined;
      continue;
    }
    const line = inputLineIdSchema.safeParse(json);
    yield line.success ? line.data.custom_id : undefined;
  }
}

/**
 * Splits the recorded line outcomes into the output file (successes) and the
 * error file (the rest), in input order. Lines withdrawn before they ran were
 * recorded without their custom_id; it is taken from the input file here.
 */
async function writeResultFiles(deps: BatchStepDeps, batch: BatchRecord, dir: string): Promise<{ output: WrittenFile; errors: WrittenFile }> {
  const output = { path: join(dir, "output.jsonl"), lines: 0, stream: createWriteStream(join(dir, "output.jsonl")) };
  const errors = { path: join(dir, "errors.jsonl"), lines: 0, stream: createWriteStream(join(dir, "errors.jsonl")) };
  const ids = customIds(deps, batch);
  for (let start = 0; start < batch.total; start += READ_CHUNK) {
    const outcomes = await deps.batches.readLines(batch.id, start, Math.min(READ_CHUNK, batch.total - start));
    for (const text of outcomes) {
      const customId = (await ids.next()).value;
      if (text === null) continue;
      const outcome = batchLineOutcomeSchema.parse(JSON.parse(text));
      if (outcome.custom_id === "" && customId) outcome.custom_id = customId;
      const target = outcome.outcome === "succeeded" ? output : errors;
      target.lines++;
      if (!target.stream.write(`${JSON.stringify(outcome)}\n`)) await once(target.stream, "drain");
    }
  }
  await ids.return(undefined);
  await Promise.all([output, errors].map((file) => new Promise<void>((resolve, reject) => file.stream.end((error?: Error | null) => (error ? reject(error) : resolve())))));
  return { output, errors };
}

async function storeResultFile(deps: BatchStepDeps, batch: BatchRecord, file: WrittenFile, kind: "output" | "errors"): Promise<string | undefined> {
  if (file.lines === 0) return undefined;
  const id = derivedFileId(batch.id, kind);
  const key = batchFileKey(batch.workspace, id);
  await deps.fileStore.putFile(key, file.path, "application/jsonl");
  await deps.files.create({
    id,
    workspace: batch.workspace,
    filename: `${batch.id}_${kind}.jsonl`,
    purpose: "batch_output",
    bytes: (await stat(file.path)).size,
    created_at: Math.floor(Date.now() / 1000),
    storage_key: key,
    format: "batch_results",
  });
  return id;
}

/**
 * The finalize step, after every line is accounted for: write the output and
 * error files and give the batch its final status (completed, expired or
 * cancelled), then tell the webhook, if any.
 */
export async function finalizeBatch(deps: BatchStepDeps, batchId: string): Promise<void> {
  const batch = await deps.batches.get(batchId);
  if (!batch || !["in_progress", "cancelling", "finalizing", "validating"].includes(batch.status)) return;
  const cancelled = batch.status === "cancelling" || (batch.status === "validating");
  if (batch.status === "in_progress") {
    await deps.batches.transition(batchId, "finalizing", ["in_progress"], { finalizing_at: Math.floor(Date.now() / 1000) });
  }
  const dir = await mkdtemp(join(tmpdir(), "batch-"));
  try {
    const written = await writeResultFiles(deps, batch, dir);
    const outputFileId = await storeResultFile(deps, batch, written.output, "output");
    const errorFileId = await storeResultFile(deps, batch, written.errors, "errors");
    const now = Math.floor(Date.now() / 1000);
    // Expired: the window closed with lines left undone (the expire step may
    // not have run yet when the last line gave up at the deadline).
    const expired = batch.expire_requested !== undefined || (batch.skipped > 0 && now >= batch.expires_at);
    const final = cancelled ? "cancelled" : expired ? "expired" : "completed";
    const outcome = await deps.batches.transition(batchId, final, ["finalizing", "cancelling", "validating"], {
      [`${final}_at`]: now,
      ...(outputFileId ? { output_file_id: outputFileId } : {}),
      ...(errorFileId ? { error_file_id: errorFileId } : {}),
    });
    if (outcome?.applied) {
      await deps.batches.expireFinished(batchId, batch.workspace);
      await deps.webhooks.batchEnded(batchId, `batch.${final}`);
      deps.log.info({ batchId, status: final, outputFileId, errorFileId }, "batch finished");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
