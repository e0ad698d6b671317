import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { usePrivateStack } from "./support/private-stack.js";

/** OpenAI's cap on requests in one batch. */
const MAX_REQUESTS = 50_000;

// A stack of its own: a batch over the cap must not reach the shared queue if it were accepted.
const stack = usePrivateStack({ simulator: {} }, 1);

describe("the batch size limit", () => {
  it(`fails a batch of more than ${MAX_REQUESTS.toLocaleString("en")} requests at validation, running none`, async () => {
    const client = new OpenAI({ baseURL: `${stack().apiUrl}/v1`, apiKey: stack().apiKey, maxRetries: 0, timeout: 60_000 });
    const line = (index: number) => imageLine(`r${index}`, { model: "private-model", prompt: "p", size: "256x256" });
    const file = await uploadBatchFile(client, Array.from({ length: MAX_REQUESTS + 1 }, (_, index) => line(index)));
    const batch = await waitForBatch(client, (await createImageBatch(client, file.id)).id, ["failed", "in_progress", "completed"], 30_000);
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data).toEqual([expect.objectContaining({ code: "too_many_requests", line: null })]);
    expect(batch.errors?.data?.[0]?.message).toContain("50,000");
    expect(stack().simulator.stats().requests).toBe(0);
  }, 60_000);
});
