import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { openaiClient, suite } from "./support/context.js";
import { sizeOf } from "./support/png.js";
import { startWebhookReceiver } from "./support/webhook-receiver.js";

type Job = { id: string; status: string; model: string; created_at: number; queue_position?: number; data?: Array<{ url?: string }>; error?: { code: string } };

async function post(path: string, body: unknown, headers: Record<string, string> = {}, stack = suite().stacks.fs) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${suite().apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Job & Record<string, unknown> };
}

async function get(path: string, stack = suite().stacks.fs): Promise<Job> {
  const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${suite().apiKey}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
}

async function waitForJob(id: string, statuses = ["succeeded", "failed", "cancelled"], stack = suite().stacks.fs): Promise<Job> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = await get(`/v1/images/generations/${id}`, stack);
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("async single requests", () => {
  it("answers 202 with a job to poll, then the same data as the synchronous call", async () => {
    const submitted = await post("/v1/images/generations", { model: "test-sdxl", prompt: "later please", size: "256x256" }, { prefer: "respond-async" });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get("location")).toBe(`/v1/images/generations/${submitted.body.id}`);
    expect(submitted.headers.get("preference-applied")).toBe("respond-async");
    expect(submitted.body).toMatchObject({ id: expect.stringMatching(/^gen_[0-9a-f]{24}$/), model: "test-sdxl" });
    expect(["queued", "in_progress", "succeeded"]).toContain(submitted.body.status);

    const done = await waitForJob(submitted.body.id);
    expect(done.status).toBe("succeeded");
    const image = await fetch(done.data![0]!.url!);
    expect(sizeOf(Buffer.from(await image.arrayBuffer()))).toBe("256x256");
  });

  it("reports a failure with the error envelope of the synchronous call", async () => {
    const submitted = await post("/v1/images/generations", { model: "test-garbage", prompt: "garbage" }, { prefer: "respond-async" });
    const done = await waitForJob(submitted.body.id);
    expect(done).toMatchObject({ status: "failed", error: { code: "upstream_invalid_response", type: "upstream_error" } });
  });

  it("with Prefer: wait=N waits that long, then answers 202 with the job, which still completes", async () => {
    const started = Date.now();
    const submitted = await post("/v1/images/generations", { model: "test-slow", prompt: "take your time" }, { prefer: "wait=1" });
    expect(submitted.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(submitted.body.id).toMatch(/^req_/);
    expect((await waitForJob(submitted.body.id)).status).toBe("succeeded");
  });

  it("with Prefer: wait=N answers 200 with images when they are ready in time", async () => {
    const submitted = await post("/v1/images/generations", { model: "test-single", prompt: "quick one" }, { prefer: "wait=20" });
    expect(submitted.status).toBe(200);
    expect((submitted.body as unknown as { data: unknown[] }).data).toHaveLength(1);
  });

  it("cancels a queued job and reports its position in line while it waits", async () => {
    // No worker serves this API's queue: whatever it accepts stays queued.
    const idle = suite().stacks.idle;
    const first = await post("/v1/images/generations", { model: "test-single", prompt: "first in line" }, { prefer: "respond-async" }, idle);
    const second = await post("/v1/images/generations", { model: "test-single", prompt: "second in line" }, { prefer: "respond-async" }, idle);
    expect(first.body).toMatchObject({ status: "queued", queue_position: expect.any(Number) });
    expect(second.body.queue_position).toBe(first.body.queue_position! + 1);

    const cancelled = await post(`/v1/images/generations/${first.body.id}/cancel`, {}, {}, idle);
    expect(cancelled.body.status).toBe("cancelled");
    expect((await get(`/v1/images/generations/${second.body.id}`, idle)).queue_position).toBe(first.body.queue_position);
    await post(`/v1/images/generations/${second.body.id}/cancel`, {}, {}, idle);
    expect((await get(`/v1/images/generations/${first.body.id}`, idle)).status).toBe("cancelled");
  });

  it("does not show a job to another caller's lookups by a guessed id", async () => {
    const response = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/generations/gen_000000000000000000000000`, {
      headers: { authorization: `Bearer ${suite().apiKey}` },
    });
    expect(response.status).toBe(404);
  });

  it("refuses webhook_url without Prefer: respond-async", async () => {
    const response = await post("/v1/images/generations", { model: "test-single", prompt: "p", webhook_url: "http://127.0.0.1:9/x" });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ param: "webhook_url" });
  });
});

describe("idempotency keys", () => {
  it("returns the original result for a retried synchronous request instead of generating again", async () => {
    const key = `idem-${Date.now()}`;
    const body = { model: "test-sdxl", prompt: "only once", size: "256x256", response_format: "b64_json" };
    const first = await post("/v1/images/generations", body, { "idempotency-key": key });
    const retry = await post("/v1/images/generations", body, { "idempotency-key": key });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
  });

  it("refuses the same key with another body", async () => {
    const key = `idem-conflict-${Date.now()}`;
    await post("/v1/images/generations", { model: "test-single", prompt: "one" }, { "idempotency-key": key });
    const conflict = await post("/v1/images/generations", { model: "test-single", prompt: "two" }, { "idempotency-key": key });
    expect(conflict.status).toBe(400);
    expect(conflict.body.error).toMatchObject({ code: "invalid_payload", param: "Idempotency-Key" });
  });

  it("returns the same async job, file and batch for retried creates", async () => {
    const key = `idem-async-${Date.now()}`;
    const first = await post("/v1/images/generations", { model: "test-single", prompt: "async once" }, { prefer: "respond-async", "idempotency-key": key });
    const retry = await post("/v1/images/generations", { model: "test-single", prompt: "async once" }, { prefer: "respond-async", "idempotency-key": key });
    expect(retry.body.id).toBe(first.body.id);

    const client = openaiClient(suite().stacks.fs);
    const lines = [imageLine("a", { model: "test-single", prompt: "p" })];
    const fileA = await uploadBatchFile(client, lines, { idempotencyKey: `${key}-file` });
    const fileB = await uploadBatchFile(client, lines, { idempotencyKey: `${key}-file` });
    expect(fileB.id).toBe(fileA.id);
    const batchA = await client.batches.create(
      { input_file_id: fileA.id, endpoint: "/v1/images/generations" as "/v1/chat/completions", completion_window: "24h" },
      { headers: { "Idempotency-Key": `${key}-batch` } },
    );
    const batchB = await client.batches.create(
      { input_file_id: fileA.id, endpoint: "/v1/images/generations" as "/v1/chat/completions", completion_window: "24h" },
      { headers: { "Idempotency-Key": `${key}-batch` } },
    );
    expect(batchB.id).toBe(batchA.id);
  });
});

describe("webhooks", () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.close());

  it("POSTs a Standard Webhooks-signed event when an async job ends, verified by an independent library", async () => {
    const submitted = await post(
      "/v1/images/generations",
      { model: "test-single", prompt: "call me back", webhook_url: receiver.url },
      { prefer: "respond-async" },
    );
    await expect.poll(() => receiver.received.find((hook) => hook.body.includes(submitted.body.id)), { timeout: 15_000 }).toBeDefined();
    const hook = receiver.received.find((candidate) => candidate.body.includes(submitted.body.id))!;
    const verified = new Webhook(suite().webhookSigningSecret).verify(hook.body, hook.headers as Record<string, string>) as {
      type: string;
      data: { id: string; status: string };
    };
    expect(verified).toMatchObject({ type: "image.generation.succeeded", data: { id: submitted.body.id, status: "succeeded" } });
    expect(() => new Webhook(`whsec_${Buffer.from("another secret of 32 bytes!!!!!!").toString("base64")}`).verify(hook.body, hook.headers as Record<string, string>)).toThrow();
  });

  it("tells a batch's webhook when the batch completes", async () => {
    const client = openaiClient(suite().stacks.fs);
    const input = await uploadBatchFile(client, [imageLine("hooked", { model: "test-single", prompt: "p" })]);
    const batch = await createImageBatch(client, input.id, { webhook_url: receiver.url });
    await waitForBatch(client, batch.id);
    await expect.poll(() => receiver.received.some((hook) => hook.body.includes(batch.id)), { timeout: 15_000 }).toBe(true);
    const hook = receiver.received.find((candidate) => candidate.body.includes(batch.id))!;
    const event = new Webhook(suite().webhookSigningSecret).verify(hook.body, hook.headers as Record<string, string>) as { type: string; data: { status: string } };
    expect(event).toMatchObject({ type: "batch.completed", data: { status: "completed" } });
  });

  it("refuses a private or loopback webhook target at submission, in every form, unless the operator allows it", async () => {
    // The S3 stack keeps the default: private and loopback targets refused.
    const port = new URL(receiver.url).port;
    const targets = [
      receiver.url,
      `http://localhost:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://[::7f00:1]:${port}/hook`,
      `http://[::ffff:0:7f00:1]:${port}/hook`,
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.1/hook",
    ];
    for (const webhook_url of targets) {
      const submitted = await post("/v1/images/generations", { model: "test-single", prompt: "do not call loopback", webhook_url }, { prefer: "respond-async" }, suite().stacks.s3);
      expect(submitted.status, webhook_url).toBe(400);
      expect(submitted.body.error, webhook_url).toMatchObject({ code: "invalid_payload", param: "webhook_url" });
    }
    const { apiKey, stacks } = suite();
    const input = await uploadBatchFile(openaiClient(stacks.s3), [imageLine("a", { model: "test-single", prompt: "p" })]);
    const batch = await fetch(`${stacks.s3.apiUrl}/v1/batches`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ input_file_id: input.id, endpoint: "/v1/images/generations", completion_window: "24h", webhook_url: `http://[::7f00:1]:${port}/hook` }),
    });
    expect(batch.status).toBe(400);
    expect(((await batch.json()) as { error: { param: string } }).error.param).toBe("webhook_url");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.filter((hook) => hook.body.includes("do not call loopback"))).toEqual([]);
  });
});
