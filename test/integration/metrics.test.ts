import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getFreePort, startNodeService, type ServiceProcess } from "@imagegen/local-services";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { openaiClient, suite } from "./support/context.js";
import { fsServiceEnv } from "./support/service-env.js";
import { delta, scrape, total, type Scrape } from "./support/prometheus.js";

/**
 * /metrics of the API and the worker after real traffic: each series moves
 * by what the traffic explains. Other files send traffic to the same stacks
 * at the same time, so shared series are checked with "grew by at least";
 * exact values come from this file's own API (its own queue prefix, no
 * worker, a tight rate limit, METRICS_TOKEN and ADMIN_TOKEN set).
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const METRICS_TOKEN = `metrics-${randomBytes(12).toString("hex")}`;
const ADMIN_TOKEN = `admin-${randomBytes(16).toString("hex")}`;
const API_KEY = `sk-metrics-${randomBytes(12).toString("hex")}`;
const GENERATIONS = "/v1/images/generations";

let workDir: string;
let api: ServiceProcess | undefined;
let own: { apiUrl: string; metricsUrl: string; client: OpenAI };

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "imagegen-metrics-"));
  writeFileSync(
    join(workDir, "models.yaml"),
    `models:\n  - id: test-sdxl\n    sizes: ["256x256"]\n    upstreams: [{ name: sim-healthy, protocol: openai, base_url: "${suite().simulators.healthy}", model: sim }]\n`,
  );
  const [port, metricsPort] = await Promise.all([getFreePort(), getFreePort()]);
  const apiUrl = `http://127.0.0.1:${port}`;
  api = await startNodeService({
    name: "api-metrics",
    entry: join(repoRoot, "apps", "api", "dist", "main.js"),
    env: {
      ...fsServiceEnv({ redisUrl: suite().redis.url, prefix: "it-metrics", catalogPath: join(workDir, "models.yaml"), workDir }),
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: apiUrl,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
      METRICS_TOKEN,
      ADMIN_TOKEN,
      API_KEYS: API_KEY,
      RATE_LIMIT_REQUESTS_PER_MINUTE: "1",
      // No worker serves this queue; requests must still be admitted and counted.
      REFUSE_WITHOUT_WORKERS: "false",
    },
    readyUrl: `${apiUrl}/readyz`,
    logFile: join(suite().logDir, "api-metrics.log"),
  });
  own = {
    apiUrl,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    client: new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: API_KEY, maxRetries: 0, timeout: 30_000 }),
  };
});

afterAll(async () => {
  await api?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const unique = (label: string) => `${label} ${randomBytes(6).toString("hex")}`;

describe("metrics after real traffic", () => {
  it("count successes, every upstream error code, retries and a batch on the API and the worker", async () => {
    const stack = suite().stacks.s3;
    const client = openaiClient(stack);
    const [apiBefore, workerBefore] = await Promise.all([scrape(stack.apiMetricsUrl), scrape(stack.workerMetricsUrl)]);

    // One success of two images, a retried call (the flaky upstream fails a prompt's first two attempts), and failures.
    await client.images.generate({ model: "test-sdxl", prompt: unique("metrics ok"), n: 2, size: "256x256" });
    await client.images.generate({ model: "test-flaky", prompt: unique("metrics retried"), size: "256x256" });
    const failures = [
      { model: "test-sdxl", size: "640x480", code: "invalid_payload", status: 400 },
      { model: "no-such-model", size: "256x256", code: "model_not_found", status: 404 },
      { model: "test-garbage", size: "256x256", code: "upstream_invalid_response", status: 502 },
      { model: "test-down", size: "256x256", code: "upstream_unavailable", status: 503 },
      { model: "test-hanging", size: "256x256", code: "upstream_timeout", status: 504 },
    ];
    for (const failure of failures) {
      const error = await apiErrorOf(client.images.generate({ model: failure.model, prompt: unique("metrics failure"), size: failure.size as "256x256" }));
      expect([error.status, error.code]).toEqual([failure.status, failure.code]);
    }
    expect((await apiErrorOf(openaiClient(stack, "sk-wrong-key-0123456789").models.list())).code).toBe("unauthorized");

    const file = await uploadBatchFile(client, [
      imageLine("a", { model: "test-sdxl", prompt: unique("metrics batch"), size: "256x256" }),
      imageLine("b", { model: "test-sdxl", prompt: unique("metrics batch"), size: "256x256" }),
    ]);
    const batch = await waitForBatch(client, (await createImageBatch(client, file.id)).id);
    expect(batch.status).toBe("completed");

    const [apiAfter, workerAfter] = await Promise.all([scrape(stack.apiMetricsUrl), scrape(stack.workerMetricsUrl)]);
    const apiGrew = (name: string, labels: Record<string, string>) => delta(apiBefore, apiAfter, name, labels);
    const workerGrew = (name: string, labels: Record<string, string>) => delta(workerBefore, workerAfter, name, labels);

    // API: requests by route template and status, their durations, errors by code.
    expect(apiGrew("imagegen_http_requests_total", { route: GENERATIONS, method: "POST", status: "200" })).toBeGreaterThanOrEqual(2);
    expect(apiGrew("imagegen_http_request_duration_seconds_count", { route: GENERATIONS, method: "POST", status: "200" })).toBeGreaterThanOrEqual(2);
    for (const failure of failures) {
      expect(apiGrew("imagegen_http_requests_total", { route: GENERATIONS, status: String(failure.status) }), failure.code).toBeGreaterThanOrEqual(1);
      expect(apiGrew("imagegen_api_errors_total", { code: failure.code }), failure.code).toBeGreaterThanOrEqual(1);
    }
    expect(apiGrew("imagegen_api_errors_total", { code: "unauthorized" })).toBeGreaterThanOrEqual(1);

    // Worker: outcomes by model and code, images, stage timers, retries.
    expect(workerGrew("imagegen_generations_total", { model: "test-sdxl", outcome: "ok", code: "" })).toBeGreaterThanOrEqual(3);
    expect(workerGrew("imagegen_images_generated_total", { model: "test-sdxl" })).toBeGreaterThanOrEqual(4);
    expect(workerGrew("imagegen_generation_duration_seconds_count", { model: "test-sdxl", outcome: "ok" })).toBeGreaterThanOrEqual(3);
    for (const failure of failures.filter((item) => item.model.startsWith("test-") && item.code !== "invalid_payload")) {
      expect(workerGrew("imagegen_generations_total", { model: failure.model, outcome: "error", code: failure.code }), failure.code).toBeGreaterThanOrEqual(1);
    }
    expect(workerGrew("imagegen_upstream_retries_total", { upstream: "sim-flaky", reason: "503" })).toBeGreaterThanOrEqual(2);
    expect(workerGrew("imagegen_upstream_request_duration_seconds_count", { upstream: "sim-flaky", protocol: "openai", outcome: "http" })).toBeGreaterThanOrEqual(2);
    expect(workerGrew("imagegen_upstream_request_duration_seconds_count", { upstream: "sim-flaky", protocol: "openai", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(workerGrew("imagegen_queue_wait_seconds_count", { kind: "sync" })).toBeGreaterThanOrEqual(2);
    expect(workerGrew("imagegen_queue_wait_seconds_count", { kind: "batch" })).toBeGreaterThanOrEqual(2);
    expect(workerGrew("imagegen_storage_write_duration_seconds_count", { driver: "s3", outcome: "ok" })).toBeGreaterThanOrEqual(4);
    // Every queue's jobs are timed where its Worker is registered, not only generate-image's.
    expect(workerGrew("imagegen_job_duration_seconds_count", { queue: "generate-image", outcome: "ok" })).toBeGreaterThanOrEqual(3);
    expect(workerGrew("imagegen_job_duration_seconds_count", { queue: "generate-image", outcome: "error" })).toBeGreaterThanOrEqual(1);
    // The finalize step's timer stops just after it marks the batch completed.
    await expect
      .poll(async () => delta(workerBefore, await scrape(stack.workerMetricsUrl), "imagegen_job_duration_seconds_count", { queue: "batches", outcome: "ok" }), { timeout: 10_000, interval: 200 })
      .toBeGreaterThanOrEqual(2);

    // Gauges read at scrape time: slots, health, queue depth, batches (cached up to 15 s).
    expect(total(workerAfter, "imagegen_upstream_slots", { upstream: "sim-healthy", protocol: "openai" })).toBe(8);
    expect(total(workerAfter, "imagegen_upstream_healthy", { upstream: "sim-healthy" })).toBe(1);
    expect(total(workerAfter, "imagegen_model_healthy_upstreams", { model: "test-sdxl" })).toBe(1);
    for (const queue of ["generate-image", "batches", "webhooks"]) {
      for (const state of ["waiting", "active", "delayed", "prioritized", "failed"]) {
        expect(apiAfter.samples.some((sample) => sample.name === "imagegen_queue_jobs" && sample.labels.queue === queue && sample.labels.state === state), `${queue} ${state}`).toBe(true);
      }
    }
    await expect
      .poll(async () => total(await scrape(stack.apiMetricsUrl), "imagegen_batches", { status: "completed" }), { timeout: 20_000, interval: 1000 })
      .toBeGreaterThanOrEqual(1);
    expect(total(apiAfter, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(total(workerAfter, "process_resident_memory_bytes")).toBeGreaterThan(0);

    // No label carries an unbounded value: no request, job or batch ids, no prompts.
    for (const sample of [...apiAfter.samples, ...workerAfter.samples]) {
      for (const value of Object.values(sample.labels)) expect(value, sample.name).not.toMatch(/req_|gen_|batch_|metrics /);
    }
  });

  it("counts refusals by workspace, queue depth and age, and batches by status on the API's own queues; /metrics takes METRICS_TOKEN", async () => {
    // No worker serves this API's queues: what it enqueues stays put.
    const file = await uploadBatchFile(own.client, [imageLine("a", { model: "test-sdxl", prompt: "metrics validating", size: "256x256" })]);
    await createImageBatch(own.client, file.id);
    const accepted = await fetch(`${own.apiUrl}${GENERATIONS}`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ model: "test-sdxl", prompt: "metrics queued", size: "256x256" }),
    });
    expect(accepted.status).toBe(202);
    const refused = await apiErrorOf(own.client.images.generate({ model: "test-sdxl", prompt: "metrics refused", size: "256x256" }));
    expect(refused.code).toBe("rate_limited");
    await new Promise((resolve) => setTimeout(resolve, 1100));

    expect((await fetch(own.metricsUrl)).status).toBe(401);
    expect((await fetch(own.metricsUrl, { headers: { authorization: "Bearer not-the-token-at-all" } })).status).toBe(401);
    const metrics = await scrape(own.metricsUrl, METRICS_TOKEN);
    expect(total(metrics, "imagegen_rate_limited_total", { workspace: "default" })).toBe(1);
    expect(total(metrics, "imagegen_api_errors_total", { code: "rate_limited" })).toBe(1);
    // No worker reports capacity, so fair sharing holds nothing back: the job is queued as usual.
    expect(total(metrics, "imagegen_queue_jobs", { queue: "generate-image", state: "prioritized" })).toBe(1);
    expect(total(metrics, "imagegen_queue_jobs", { queue: "generate-image", state: "waiting" })).toBe(0);
    expect(total(metrics, "imagegen_gpu_backlog_jobs", {})).toBe(1);
    expect(total(metrics, "imagegen_queue_jobs", { queue: "batches", state: "waiting" })).toBe(1);
    expect(total(metrics, "imagegen_queue_oldest_waiting_age_seconds", { queue: "generate-image" })).toBeGreaterThanOrEqual(1);
    expect(total(metrics, "imagegen_queue_oldest_waiting_age_seconds", { queue: "webhooks" })).toBe(0);
    expect(total(metrics, "imagegen_batches", { status: "validating" })).toBe(1);
    expect(total(metrics, "imagegen_batches", { status: "completed" })).toBe(0);
  });

  it("serves the queue UI only with ADMIN_TOKEN (Bearer or Basic password)", async () => {
    expect((await fetch(`${own.apiUrl}/admin/queues/api/queues`)).status).toBe(401);
    const wrong = await fetch(`${own.apiUrl}/admin/queues`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect([wrong.status, wrong.headers.get("www-authenticate")]).toEqual([401, expect.stringContaining("Basic")]);
    const page = await fetch(`${own.apiUrl}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString("base64")}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const listing = await fetch(`${own.apiUrl}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await listing.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(["batches", "generate-image", "webhooks"]);
    expect(body.queues.find((queue) => queue.name === "generate-image")!.counts.prioritized).toBe(1);
  });
});

describe("dashboard and alerts", () => {
  it("use only metric names the running API and worker export", async () => {
    const stack = suite().stacks.s3;
    const exported = new Set<string>();
    for (const url of [stack.apiMetricsUrl, stack.workerMetricsUrl]) for (const name of (await scrape(url)).names) exported.add(name);
    const referenced = new Set<string>();
    for (const path of ["infra/grafana/dashboards/imagegen.json", "infra/prometheus/rules/imagegen.rules.yml"]) {
      for (const name of readFileSync(join(repoRoot, path), "utf8").match(/\b(?:imagegen|process|nodejs)_[a-z_]+\b/g) ?? []) referenced.add(name);
    }
    expect(referenced.size).toBeGreaterThan(20);
    expect([...referenced].filter((name) => !exported.has(name))).toEqual([]);
  });
});
