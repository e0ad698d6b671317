import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { createImageBatch, fileLines, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { openaiClient, suite } from "./support/context.js";
import { sizeOf } from "./support/png.js";

const client = () => openaiClient(suite().stacks.fs);

describe("the OpenAI Batch API for images, through the openai client", () => {
  it("runs a batch from upload to output file: every line answered, links signed at download", async () => {
    const input = await uploadBatchFile(client(), [
      imageLine("fox", { model: "test-sdxl", prompt: "a fox", size: "256x256" }),
      imageLine("owl", { model: "test-sdxl", prompt: "an owl", size: "512x512", response_format: "b64_json" }),
      imageLine("two-cats", { model: "test-sdxl", prompt: "two cats", size: "256x256", n: 2 }),
    ]);
    expect(input).toMatchObject({ object: "file", purpose: "batch", status: "processed" });
    expect((await client().files.retrieve(input.id)).bytes).toBe(input.bytes);

    const created = await createImageBatch(client(), input.id, { metadata: { pipeline: "nightly" } });
    expect(created).toMatchObject({ object: "batch", status: "validating", endpoint: "/v1/images/generations", metadata: { pipeline: "nightly" } });

    const batch = await waitForBatch(client(), created.id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    expect(batch.completed_at).toBeGreaterThanOrEqual(batch.created_at);

    const lines = await fileLines(client(), batch.output_file_id!);
    expect(lines.map((line) => line.custom_id)).toEqual(["fox", "owl", "two-cats"]);
    for (const line of lines) {
      expect(line).toMatchObject({ id: expect.stringMatching(/^batch_req_/), error: null, response: { status_code: 200 } });
    }
    const fox = await fetch(lines[0]!.response.body.data[0].url);
    expect(sizeOf(Buffer.from(await fox.arrayBuffer()))).toBe("256x256");
    expect(sizeOf(Buffer.from(lines[1]!.response.body.data[0].b64_json, "base64"))).toBe("512x512");
    expect(lines[2]!.response.body.data).toHaveLength(2);
  });

  it("fails a batch whose input file has errors, reporting each with its line, and runs nothing", async () => {
    const input = await uploadBatchFile(client(), [
      imageLine("ok", { model: "test-sdxl", prompt: "fine" }),
      "{not json",
      imageLine("ghost", { model: "no-such-model", prompt: "p" }),
      JSON.stringify({ custom_id: "chat", method: "POST", url: "/v1/chat/completions", body: { model: "test-sdxl", prompt: "p" } }),
      imageLine("ok", { model: "test-sdxl", prompt: "duplicate id" }),
      JSON.stringify({ custom_id: "get", method: "GET", url: "/v1/images/generations", body: { model: "test-sdxl", prompt: "p" } }),
    ]);
    const batch = await waitForBatch(client(), (await createImageBatch(client(), input.id)).id);
    expect(batch.status).toBe("failed");
    expect(batch.request_counts?.completed).toBe(0);
    expect(batch.output_file_id).toBeNull();
    const errors = (batch.errors?.data ?? []).map((error) => [error.line, error.code]);
    expect(errors).toEqual([
      [2, "invalid_json_line"],
      [3, "model_not_found"],
      [4, "invalid_url"],
      [5, "duplicate_custom_id"],
      [6, "invalid_request"],
    ]);
  });

  it("answers a line whose body the endpoint would refuse with that line's 400 in the error file, and runs the others", async () => {
    const input = await uploadBatchFile(client(), [
      imageLine("good", { model: "test-sdxl", prompt: "good", size: "256x256" }),
      imageLine("no-prompt", { model: "test-sdxl" }),
      imageLine("bad-size", { model: "test-sdxl", prompt: "p", size: "3x3" }),
      imageLine("undeclared", { model: "test-single", prompt: "p", guidance_scale: 7 }),
      imageLine("also-good", { model: "test-single", prompt: "also good" }),
    ]);
    const batch = await waitForBatch(client(), (await createImageBatch(client(), input.id)).id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 5, completed: 2, failed: 3 });
    const errors = await fileLines(client(), batch.error_file_id!);
    expect(errors.map((line) => [line.custom_id, line.response.status_code, line.response.body.error.code, line.response.body.error.param])).toEqual([
      ["no-prompt", 400, "invalid_payload", "prompt"],
      ["bad-size", 400, "invalid_payload", "size"],
      ["undeclared", 400, "invalid_payload", "guidance_scale"],
    ]);
    expect((await fileLines(client(), batch.output_file_id!)).map((line) => line.custom_id)).toEqual(["good", "also-good"]);
  });

  it("refuses metadata beyond OpenAI's limits: 16 pairs, keys of 64 and values of 512 characters", async () => {
    const input = await uploadBatchFile(client(), [imageLine("a", { model: "test-single", prompt: "p" })]);
    const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, "v"]));
    for (const metadata of [seventeen, { ["k".repeat(65)]: "v" }, { key: "v".repeat(513) }]) {
      const error = await apiErrorOf(createImageBatch(client(), input.id, { metadata }));
      expect(error.status).toBe(400);
      expect(error.param).toMatch(/^metadata/);
    }
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key${index}`, "v".repeat(512)]));
    expect((await createImageBatch(client(), input.id, { metadata: sixteen })).metadata).toEqual(sixteen);
  });

  it("counts partial failures exactly and lists failed lines in the error file with their status", async () => {
    const input = await uploadBatchFile(client(), [
      imageLine("good", { model: "test-sdxl", prompt: "good", size: "256x256" }),
      imageLine("garbage", { model: "test-garbage", prompt: "garbage" }),
      imageLine("down", { model: "test-down", prompt: "down" }),
    ]);
    const batch = await waitForBatch(client(), (await createImageBatch(client(), input.id)).id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 3, completed: 1, failed: 2 });
    const errors = await fileLines(client(), batch.error_file_id!);
    expect(errors.map((line) => [line.custom_id, line.response.status_code, line.response.body.error.code])).toEqual([
      ["garbage", 502, "upstream_invalid_response"],
      ["down", 503, "upstream_unavailable"],
    ]);
    expect((await fileLines(client(), batch.output_file_id!)).map((line) => line.custom_id)).toEqual(["good"]);
  });

  it("cancels promptly: lines not started are reported cancelled, lines at an upstream finish and count", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => imageLine(`slow-${i}`, { model: "test-sluggish", prompt: `slow ${i}` }));
    const created = await createImageBatch(client(), (await uploadBatchFile(client(), lines)).id);
    await waitForBatch(client(), created.id, ["in_progress"]);
    const cancelling = await client().batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const batch = await waitForBatch(client(), created.id, ["cancelled"], 30_000);
    const counts = batch.request_counts!;
    expect(counts.total).toBe(50);
    expect(counts.completed + counts.failed).toBeLessThan(50);
    const skipped = (await fileLines(client(), batch.error_file_id!)).filter((line) => line.error?.code === "batch_cancelled");
    expect(skipped.length + counts.completed + counts.failed).toBe(50);
    expect(skipped[0]!.custom_id).toMatch(/^slow-\d+$/);
  });

  it("expires lines not done within the completion window and keeps the rest", async () => {
    const expiring = openaiClient(suite().stacks.expiring);
    const lines = Array.from({ length: 50 }, (_, i) => imageLine(`late-${i}`, { model: "test-sluggish", prompt: `late ${i}` }));
    const created = await createImageBatch(expiring, (await uploadBatchFile(expiring, lines)).id);
    expect(created.expires_at! - created.created_at).toBe(suite().shortCompletionWindowSeconds);
    const batch = await waitForBatch(expiring, created.id, ["expired", "completed"], 30_000);
    expect(batch.status).toBe("expired");
    const expired = (await fileLines(expiring, batch.error_file_id!)).filter((line) => line.error?.code === "batch_expired");
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.length + batch.request_counts!.completed + batch.request_counts!.failed).toBe(50);
  });

  it("lists batches newest first with cursor pagination", async () => {
    const input = await uploadBatchFile(client(), [imageLine("one", { model: "test-single", prompt: "p" })]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createImageBatch(client(), input.id)).id);
    const first = await client().batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const next = await client().batches.list({ limit: 2, after: ids[1] });
    expect(next.data[0]!.id).toBe(ids[0]);
  });

  it("answers 404 for files and batches that do not exist, and refuses other upload purposes", async () => {
    expect((await apiErrorOf(client().batches.retrieve("batch_000000000000000000000000"))).status).toBe(404);
    expect((await apiErrorOf(client().files.retrieve("file-000000000000000000000000"))).status).toBe(404);
    expect((await apiErrorOf(createImageBatch(client(), "file-000000000000000000000000"))).status).toBe(400);
    const { toFile } = await import("openai");
    const wrongPurpose = client().files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "fine-tune" });
    expect((await apiErrorOf(wrongPurpose)).param).toBe("purpose");
  });

  it("deletes a file", async () => {
    const input = await uploadBatchFile(client(), [imageLine("x", { model: "test-single", prompt: "p" })]);
    expect(await client().files.delete(input.id)).toEqual({ id: input.id, object: "file", deleted: true });
    expect((await apiErrorOf(client().files.retrieve(input.id))).status).toBe(404);
  });
});

describe("priorities", () => {
  it("serves a synchronous call while a batch's backlog is still waiting, instead of after it", async () => {
    const lines = Array.from({ length: 80 }, (_, i) => imageLine(`backlog-${i}`, { model: "test-sluggish", prompt: `backlog ${i}` }));
    const created = await createImageBatch(client(), (await uploadBatchFile(client(), lines)).id);
    await waitForBatch(client(), created.id, ["in_progress"]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the backlog fill the worker

    const sync = await client().images.generate({ model: "test-single", prompt: "me first" });
    expect(sync.data).toHaveLength(1);
    const during = await client().batches.retrieve(created.id);
    expect(during.status).toBe("in_progress");
    expect(during.request_counts!.completed).toBeLessThan(40);

    await client().batches.cancel(created.id);
    await waitForBatch(client(), created.id, ["cancelled"], 30_000);
  });
});
