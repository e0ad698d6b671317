// What the batch benchmarks do as a caller of the Batch API: write a JSONL
// input file, upload it and create a batch, and poll the batch's status.
import { createWriteStream, openAsBlob } from "node:fs";
import { once } from "node:events";
import { z } from "zod";
import type { BatchStack } from "./batch-stack.ts";

// Only the fields the benchmarks read; the API's full shapes live in packages/shared.
const BatchSchema = z.object({
  id: z.string(),
  status: z.string(),
  request_counts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }),
  /** Why validation failed, as the API lists it; printed, not inspected. */
  errors: z.unknown().optional(),
});
const FileSchema = z.object({ id: z.string() });
export type Batch = z.infer<typeof BatchSchema>;

async function api<T>(stack: BatchStack, path: string, schema: z.ZodType<T>, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...init.headers } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return schema.parse(await response.json());
}

/** `lines` small generations of `model`, 50 distinct prompts (the simulator caches their images). */
export async function writeBatchInput(path: string, lines: number, model: string, tag: string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const line = JSON.stringify({ custom_id: `${tag}-${i}`, method: "POST", url: "/v1/images/generations", body: { model, prompt: `${tag} ${i % 50}`, size: "64x64" } });
    if (!out.write(`${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

export async function submitBatch(stack: BatchStack, path: string): Promise<{ batch: Batch; uploadMs: number }> {
  const started = performance.now();
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", await openAsBlob(path), "input.jsonl");
  const file = await api(stack, "/v1/files", FileSchema, { method: "POST", body: form });
  const uploadMs = performance.now() - started;
  const batch = await api(stack, "/v1/batches", BatchSchema, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/images/generations", completion_window: "24h" }),
  });
  return { batch, uploadMs };
}

/** Polls until every line of the batch has an outcome (before the output files are written). */
export async function untilAllLinesDone(stack: BatchStack, id: string, intervalMs = 10): Promise<number> {
  for (;;) {
    const batch = await api(stack, `/v1/batches/${id}`, BatchSchema);
    const { total, completed, failed } = batch.request_counts;
    if (total > 0 && completed + failed >= total) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls until the batch reaches one of `statuses`; returns when it was first seen there. */
export async function untilBatchStatus(stack: BatchStack, id: string, statuses: string[], intervalMs = 50): Promise<{ batch: Batch; at: number }> {
  for (;;) {
    const batch = await api(stack, `/v1/batches/${id}`, BatchSchema);
    if (statuses.includes(batch.status)) return { batch, at: performance.now() };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The most requests one batch may hold (OpenAI's limit, which the API enforces at validation). */
export const MAX_BATCH_LINES = 50_000;

/** Statuses after which a batch changes no more. */
export const FINAL_BATCH_STATUSES = ["completed", "failed", "expired", "cancelled"];
