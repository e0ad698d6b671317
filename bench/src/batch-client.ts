// The Batch API as the benchmarks call it: write an input file, upload it,
// create the batch, poll it. Answers are parsed, so a changed wire shape
// fails here with the field's name instead of skewing a figure. Only the
// fields the benchmarks read; the API's full shapes live in packages/shared.
import { createWriteStream, openAsBlob } from "node:fs";
import { once } from "node:events";
import { z } from "zod";

/** The most requests one batch may hold (OpenAI's limit, which the API enforces at validation). */
export const MAX_BATCH_LINES = 50_000;

/** Statuses after which a batch changes no more. */
export const FINAL_BATCH_STATUSES: readonly string[] = ["completed", "failed", "expired", "cancelled"];

/** Where to send requests and whose key to send: one workspace's view of the API. */
export interface ApiCaller {
  apiUrl: string;
  apiKey: string;
}

const batchSchema = z.object({
  id: z.string(),
  status: z.string(),
  request_counts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }),
  /** Why validation failed, as the API lists it; printed, not inspected. */
  errors: z.unknown().optional(),
});
export type Batch = z.infer<typeof batchSchema>;

const fileSchema = z.object({ id: z.string() });

/** One JSON call; throws with the answer's body on a non-2xx status. */
export async function callApi<T extends z.ZodType>(caller: ApiCaller, path: string, schema: T, init: RequestInit = {}): Promise<z.infer<T>> {
  const response = await fetch(`${caller.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${caller.apiKey}`, ...init.headers } });
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${await response.text()}`);
  return schema.parse(await response.json());
}

/** A JSONL input of `lines` generation requests (64x64, 50 distinct prompts so the simulator's cache serves most). */
export async function writeBatchInput(path: string, lines: number, model: string, tag: string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const line = JSON.stringify({ custom_id: `${tag}-${i}`, method: "POST", url: "/v1/images/generations", body: { model, prompt: `${tag} ${i % 50}`, size: "64x64" } });
    if (!out.write(`${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/** Uploads an input file (`purpose: batch`); resolves to its file id. */
export async function uploadBatchInput(caller: ApiCaller, path: string): Promise<string> {
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", await openAsBlob(path), "input.jsonl");
  return (await callApi(caller, "/v1/files", fileSchema, { method: "POST", body: form })).id;
}

export function createBatch(caller: ApiCaller, inputFileId: string): Promise<Batch> {
  return callApi(caller, "/v1/batches", batchSchema, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input_file_id: inputFileId, endpoint: "/v1/images/generations", completion_window: "24h" }),
  });
}

/** Upload and create in one go; `uploadMs` is the upload's share. */
export async function submitBatch(caller: ApiCaller, path: string): Promise<{ batch: Batch; uploadMs: number }> {
  const started = performance.now();
  const fileId = await uploadBatchInput(caller, path);
  const uploadMs = performance.now() - started;
  return { batch: await createBatch(caller, fileId), uploadMs };
}

export const getBatch = (caller: ApiCaller, id: string): Promise<Batch> => callApi(caller, `/v1/batches/${id}`, batchSchema);

export const cancelBatch = (caller: ApiCaller, id: string): Promise<Batch> => callApi(caller, `/v1/batches/${id}/cancel`, batchSchema, { method: "POST" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until every line of the batch has an outcome (before the output
 * files are written); resolves to when that was first seen, or undefined
 * when `giveUpAtMs` (a performance.now() time) passes first.
 */
export async function untilAllLinesDone(caller: ApiCaller, id: string, options: { intervalMs?: number; giveUpAtMs?: number } = {}): Promise<number | undefined> {
  for (;;) {
    const { total, completed, failed } = (await getBatch(caller, id)).request_counts;
    const now = performance.now();
    if (total > 0 && completed + failed >= total) return now;
    if (now >= (options.giveUpAtMs ?? Infinity)) return undefined;
    await sleep(options.intervalMs ?? 10);
  }
}

/** Polls until the batch reaches one of `statuses`; resolves to it and when it was first seen there. */
export async function untilBatchStatus(caller: ApiCaller, id: string, statuses: readonly string[], intervalMs = 50): Promise<{ batch: Batch; at: number }> {
  for (;;) {
    const batch = await getBatch(caller, id);
    if (statuses.includes(batch.status)) return { batch, at: performance.now() };
    await sleep(intervalMs);
  }
}
