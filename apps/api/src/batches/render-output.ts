import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { once } from "node:events";
import { batchLineOutcomeSchema, fromFailure, toErrorBody, type BatchLineOutcome } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { renderImages } from "../generations/render.js";

const SKIPPED_MESSAGES = {
  batch_cancelled: "This request was not executed because the batch was cancelled.",
  batch_expired: "This request could not be executed before the completion window expired.",
} as const;

/** A stable `batch_req_…` id per line, the same on every download. */
function lineId(outcome: BatchLineOutcome): string {
  const source = "request_id" in outcome ? outcome.request_id : `${outcome.custom_id}:${outcome.line}`;
  return `batch_req_${createHash("sha256").update(source).digest("hex").slice(0, 24)}`;
}

/** One line of OpenAI's batch output or error file. Links are signed now, at download. */
export async function renderOutputLine(outcome: BatchLineOutcome, store: ImageStore, urlTtlSeconds: number) {
  const base = { id: lineId(outcome), custom_id: outcome.custom_id };
  switch (outcome.outcome) {
    case "succeeded": {
      const body = await renderImages(
        { created: outcome.created, upstream: "", images: outcome.images },
        outcome.response_format,
        store,
        urlTtlSeconds,
      );
      return { ...base, response: { status_code: 200, request_id: outcome.request_id, body }, error: null };
    }
    case "failed": {
      const error = fromFailure(outcome.failure);
      return { ...base, response: { status_code: error.status, request_id: outcome.request_id, body: toErrorBody(error) }, error: null };
    }
    case "skipped":
      return { ...base, response: null, error: { code: outcome.reason, message: SKIPPED_MESSAGES[outcome.reason] } };
  }
}

/** Streams a stored results file to the caller as OpenAI's JSONL, line by line, honouring backpressure. */
export async function streamRenderedResults(input: Readable, output: Writable, store: ImageStore, urlTtlSeconds: number): Promise<void> {
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    if (text.trim() === "") continue;
    const line = await renderOutputLine(batchLineOutcomeSchema.parse(JSON.parse(text)), store, urlTtlSeconds);
    if (!output.write(`${JSON.stringify(line)}\n`)) await once(output, "drain");
  }
}
