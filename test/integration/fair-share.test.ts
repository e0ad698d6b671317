import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";
import { parsePrometheusText } from "./support/prometheus.js";

/**
 * Fair sharing between workspaces, on a real Redis with two API replicas and
 * two workers in front of one simulated GPU of 8 slots (40 ms a call). Every
 * assertion is about order and shares, read from the service itself (job
 * states, positions, the workers' per-workspace counters), never about time.
 */
const SLOTS = 8;
const ADMIN_TOKEN = "admin-token-for-fair-share-tests";
let stack: PrivateStack;
let secondApiUrl: string;
const workerUrls: string[] = [];
const keys: Record<string, string> = {};

type Job = { id: string; status: string; queue_position?: number };

async function admin(path: string, method: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.apiUrl}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function createWorkspace(id: string, weight?: number): Promise<void> {
  await admin("/workspaces", "POST", { id, ...(weight === undefined ? {} : { weight }) });
  keys[id] = String((await admin(`/workspaces/${id}/keys`, "POST", { name: "fair-share test" })).key);
}

/** Submits `count` async jobs for `workspace` through `apiUrl`, 20 at a time; returns their ids in order. */
async function submitAsync(apiUrl: string, workspace: string, count: number, label = workspace): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let start = 0; start < count; start += 20) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(20, count - start) }, async (_, offset) => {
        const response = await fetch(`${apiUrl}/v1/images/generations`, {
          method: "POST",
          headers: { authorization: `Bearer ${keys[workspace]}`, "content-type": "application/json", prefer: "respond-async" },
          body: JSON.stringify({ model: "private-model", prompt: `${label} ${start + offset}`, size: "256x256" }),
        });
        expect(response.status).toBe(202);
        return (await response.json()) as Job;
      }),
    );
    jobs.push(...chunk);
  }
  return jobs;
}

async function getJob(apiUrl: string, workspace: string, id: string): Promise<Job> {
  const response = await fetch(`${apiUrl}/v1/images/generations/${id}`, { headers: { authorization: `Bearer ${keys[workspace]}` } });
  return (await response.json()) as Job;
}

async function statuses(workspace: string, jobs: Job[]): Promise<string[]> {
  const seen: string[] = [];
  for (let start = 0; start < jobs.length; start += 50) {
    seen.push(...(await Promise.all(jobs.slice(start, start + 50).map(async (job) => (await getJob(stack.apiUrl, workspace, job.id)).status))));
  }
  return seen;
}

async function allEnded(workspace: string, jobs: Job[]): Promise<boolean> {
  return (await statuses(workspace, jobs)).every((status) => status === "succeeded" || status === "failed");
}

/** Jobs each workspace has started so far, summed over the live workers' counters. */
async function started(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const url of workerUrls) {
    const scrape = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    for (const sample of scrape.samples) {
      if (sample.name !== "imagegen_workspace_queue_wait_seconds_count") continue;
      counts[sample.labels.workspace!] = (counts[sample.labels.workspace!] ?? 0) + sample.value;
    }
  }
  return counts;
}

async function startedUntil(condition: (counts: Record<string, number>) => boolean): Promise<Record<string, number>> {
  let counts: Record<string, number> = {};
  await expect.poll(async () => condition((counts = await started())), { timeout: 30_000, interval: 25 }).toBe(true);
  return counts;
}

const of = (counts: Record<string, number>, workspace: string) => counts[workspace] ?? 0;

beforeAll(async () => {
  stack = await startPrivateStack({ simulator: { latencyMs: 40, maxConcurrency: SLOTS }, upstream: { slots: SLOTS }, adminToken: ADMIN_TOKEN });
  secondApiUrl = (await stack.startApi()).url;
  for (const worker of await Promise.all([stack.startWorker(), stack.startWorker()])) workerUrls.push(worker.healthUrl);
  await Promise.all([createWorkspace("flood"), createWorkspace("light"), createWorkspace("heavy", 3), createWorkspace("steady")]);
}, 90_000);
afterAll(() => stack?.stop());

describe("fair share between workspaces", () => {
  it("runs a light workspace's jobs between a flooding workspace's, and gives the flood the whole GPU again when it leaves", async () => {
    const flood = await submitAsync(stack.apiUrl, "flood", 240);
    await startedUntil((counts) => of(counts, "flood") >= 10);
    const light = await submitAsync(secondApiUrl, "light", 8);
    // Every light job is held now (each was accepted after its enqueue).
    const atJoin = await started();

    // Its place in the fair order: behind what is already out, not behind the flood's backlog.
    const firstLight = await getJob(secondApiUrl, "light", light[0]!.id);
    if (firstLight.status === "queued") expect(firstLight.queue_position).toBeLessThanOrEqual(SLOTS + 2 + 2);
    const lastFlood = await getJob(stack.apiUrl, "flood", flood.at(-1)!.id);
    expect(lastFlood).toMatchObject({ status: "queued" });
    expect(lastFlood.queue_position).toBeGreaterThan(100);

    const atLightStarted = await startedUntil((counts) => of(counts, "light") >= light.length);
    // First come, first served would start the flood's 220-odd other jobs first. Fair turns: what
    // was out already (slots + one per worker), then about one flood job per light job, plus what
    // started while this test scraped and polled (generous: a loaded machine polls slowly).
    expect(of(atLightStarted, "flood") - of(atJoin, "flood")).toBeLessThanOrEqual(SLOTS + 2 + light.length + 40);

    // Alone again, the flood fills every slot (work-conserving).
    stack.simulator.resetStats();
    await expect.poll(() => allEnded("flood", flood), { timeout: 60_000, interval: 100 }).toBe(true);
    expect(stack.simulator.stats().maxInFlight).toBe(SLOTS);
    expect(await statuses("flood", flood)).toEqual(Array(flood.length).fill("succeeded"));
    expect(await statuses("light", light)).toEqual(Array(light.length).fill("succeeded"));
  }, 120_000);

  it("splits the GPU 3:1 by weight while both are busy, and 1:1 once the weight is changed at run time", async () => {
    // Batches, so both workspaces' whole backlog is held within moments and neither runs dry mid-window.
    const LINES = 500;
    const submitBatch = async (workspace: string) => {
      const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: keys[workspace], maxRetries: 0 });
      const lines = Array.from({ length: LINES }, (_, index) => imageLine(`${workspace}-${index}`, { model: "private-model", prompt: `${workspace} ${index}`, size: "256x256" }));
      return { client, batch: await createImageBatch(client, (await uploadBatchFile(client, lines)).id) };
    };
    const [heavy, steady] = await Promise.all([submitBatch("heavy"), submitBatch("steady")]);
    const first = await startedUntil((counts) => of(counts, "heavy") >= 20 && of(counts, "steady") >= 5);
    const second = await startedUntil((counts) => of(counts, "heavy") + of(counts, "steady") >= of(first, "heavy") + of(first, "steady") + 160);
    const weighted = (of(second, "heavy") - of(first, "heavy")) / (of(second, "steady") - of(first, "steady"));
    expect(weighted).toBeGreaterThan(2.5);
    expect(weighted).toBeLessThan(3.6);

    await admin("/workspaces/heavy", "PATCH", { weight: 1 });
    const third = await started();
    const fourth = await startedUntil((counts) => of(counts, "heavy") + of(counts, "steady") >= of(third, "heavy") + of(third, "steady") + 100);
    const even = (of(fourth, "heavy") - of(third, "heavy")) / (of(fourth, "steady") - of(third, "steady"));
    expect(even).toBeGreaterThan(0.7);
    expect(even).toBeLessThan(1.45);

    for (const { client, batch } of [heavy, steady]) {
      const ended = await waitForBatch(client, batch.id);
      expect(ended).toMatchObject({ status: "completed", request_counts: { total: LINES, completed: LINES, failed: 0 } });
    }
  }, 120_000);

  it("loses and duplicates nothing when a worker is killed mid-flood", async () => {
    // A third worker, up before the flood so it surely gets some of it.
    const victim = await stack.startWorker();
    stack.simulator.resetStats();
    const jobs = { flood: await submitAsync(stack.apiUrl, "flood", 150, "killed"), light: await submitAsync(secondApiUrl, "light", 30, "killed") };
    const survivors = workerUrls.splice(0);
    workerUrls.push(victim.healthUrl);
    // Killed while it runs jobs of its own.
    await startedUntil((counts) => of(counts, "flood") + of(counts, "light") >= 3);
    await victim.stop("SIGKILL", 1000);
    workerUrls.splice(0, workerUrls.length, ...survivors);

    await expect.poll(() => allEnded("flood", jobs.flood), { timeout: 60_000, interval: 200 }).toBe(true);
    await expect.poll(() => allEnded("light", jobs.light), { timeout: 60_000, interval: 200 }).toBe(true);
    expect(await statuses("flood", jobs.flood)).toEqual(Array(jobs.flood.length).fill("succeeded"));
    expect(await statuses("light", jobs.light)).toEqual(Array(jobs.light.length).fill("succeeded"));
    // Each job reached the GPU once, except the few the killed worker had in flight (run again after its lock lapsed).
    const calls = stack.simulator.stats().requests;
    expect(calls).toBeGreaterThanOrEqual(180);
    expect(calls).toBeLessThanOrEqual(180 + SLOTS);
    // Nothing is left held.
    const held = async () =>
      parsePrometheusText(await (await fetch(stack.apiMetricsUrl)).text()).samples.filter((sample) => sample.name === "imagegen_workspace_queued_jobs").length;
    await expect.poll(held, { timeout: 5000 }).toBe(0);
  }, 120_000);
});
