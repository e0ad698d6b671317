import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";

export function imageLine(customId: string, body: Record<string, unknown>): string {
  return JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/images/generations", body });
}

export async function uploadBatchFile(client: OpenAI, lines: string[], options: { idempotencyKey?: string } = {}) {
  return client.files.create(
    { file: await toFile(Buffer.from(`${lines.join("\n")}\n`), "input.jsonl"), purpose: "batch" },
    options.idempotencyKey ? { headers: { "Idempotency-Key": options.idempotencyKey } } : {},
  );
}

export async function createImageBatch(client: OpenAI, inputFileId: string, extra: Record<string, unknown> = {}) {
  return client.batches.create({
    input_file_id: inputFileId,
    // The SDK's type lists the endpoints OpenAI runs; this service runs images.
    endpoint: "/v1/images/generations" as "/v1/chat/completions",
    completion_window: "24h",
    ...extra,
  });
}

const ENDED = ["completed", "failed", "expired", "cancelled"];

/** Polls a batch until it has ended (or the given statuses), as a pipeline would. */
export async function waitForBatch(client: OpenAI, id: string, until: string[] = ENDED, timeoutMs = 60_000): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (until.includes(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still '${batch.status}' after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function fileLines(client: OpenAI, fileId: string): Promise<Array<Record<string, any>>> {
  const text = await (await client.files.content(fileId)).text();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, any>);
}
