import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { suite } from "./support/context.js";
import { usePrivateStack } from "./support/private-stack.js";

const stack = usePrivateStack({ simulator: {} }, 1);

describe("a batch step that keeps failing", () => {
  it("ends the batch as failed, with an errors entry and an error-level log, instead of leaving it validating", async () => {
    const client = new OpenAI({ baseURL: `${stack().apiUrl}/v1`, apiKey: stack().apiKey, maxRetries: 0 });
    const file = await uploadBatchFile(client, [imageLine("a", { model: "private-model", prompt: "p", size: "256x256" })]);
    // The stored input vanishes (an operator's cleanup, a lost volume): every ingest attempt fails reading it.
    rmSync(join(stack().imagesDir, "files", "default", `${file.id}.jsonl`));
    const batch = await createImageBatch(client, file.id);

    // Five attempts with exponential backoff from 1 s take about 15 s.
    const ended = await waitForBatch(client, batch.id, ["completed", "failed", "expired", "cancelled"], 40_000);
    expect(ended.status).toBe("failed");
    expect(ended.failed_at).toBeGreaterThan(0);
    expect(ended.errors?.data?.[0]).toMatchObject({ code: "batch_step_failed", line: null });
    expect(ended.errors?.data?.[0]?.message).toMatch(/could not be processed/);

    const errorLines = readFileSync(join(suite().logDir, "private-worker-1.log"), "utf8")
      .split("\n")
      .filter((line) => line.includes(batch.id) && line.includes('"level":50'));
    expect(errorLines.length).toBeGreaterThan(0);
  }, 60_000);
});
