import { GENERATE_IMAGE_QUEUE, queuePrefix } from "@imagegen/shared";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";
import { parsePrometheusText } from "./support/prometheus.js";

/**
 * An upstream's max_concurrency is the cap across every worker process: three
 * workers share one GPU server of 4 slots that refuses (429) whatever comes
 * beyond them, as a real inference server at capacity would.
 */
const SLOTS = 4;
let stack: PrivateStack;
beforeAll(async () => {
  stack = await startPrivateStack({ simulator: { latencyMs: 150, maxConcurrency: SLOTS, faults: { retryAfterSeconds: 1 } }, upstream: { slots: SLOTS } });
  await Promise.all([stack.startWorker(), stack.startWorker(), stack.startWorker()]);
}, 90_000);
afterAll(() => stack?.stop());

describe("GPU slots shared by three workers", () => {
  it("never sends the upstream more than its slots, and no caller pays for oversubscription", async () => {
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0, timeout: 60_000 });
    stack.simulator.resetStats();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        client.images.generate({ model: "private-model", prompt: `shared slots ${index}`, size: "256x256" }).then(
          () => "ok",
          (error: unknown) => String(error),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome !== "ok")).toEqual([]);
    const stats = stack.simulator.stats();
    expect(stats.maxInFlight).toBeLessThanOrEqual(SLOTS);
    // All three workers' requests met at the GPU: the cap was reached, not merely respected by one worker.
    expect(stats.maxInFlight).toBe(SLOTS);
    expect(stats.responses.ok).toBe(40);
  });
});

describe("a GPU backlog", () => {
  let lone: PrivateStack;
  beforeAll(async () => {
    lone = await startPrivateStack({ simulator: { latencyMs: 400 }, upstream: { slots: 2 } });
    await lone.startWorker();
  }, 90_000);
  afterAll(() => lone?.stop());

  it("stays in the queue where autoscaling sees it, instead of being held by the worker that fetched it", async () => {
    const submit = (index: number) =>
      fetch(`${lone.apiUrl}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${lone.apiKey}`, "content-type": "application/json", prefer: "respond-async" },
        body: JSON.stringify({ model: "private-model", prompt: `backlog ${index}`, size: "256x256" }),
      });
    const accepted = await Promise.all(Array.from({ length: 20 }, (_, index) => submit(index)));
    expect(accepted.map((response) => response.status)).toEqual(Array(20).fill(202));

    const redis = new Redis(lone.redis.url);
    try {
      const key = (name: string) => `${queuePrefix("imagegen", GENERATE_IMAGE_QUEUE)}:${GENERATE_IMAGE_QUEUE}:${name}`;
      // Queued, or held for fair sharing (a delayed job in its workspace's lane).
      const queued = async () => (await redis.zcard(key("prioritized"))) + (await redis.zcard(key("delayed")));
      // Two run on the GPU; the worker holds at most a couple more; the rest wait in Redis.
      await expect.poll(queued, { timeout: 10_000 }).toBeGreaterThanOrEqual(14);
      const backlog = async () => {
        const scrape = parsePrometheusText(await (await fetch(lone.apiMetricsUrl)).text());
        return scrape.samples.find((sample) => sample.name === "imagegen_gpu_backlog_jobs")?.value ?? -1;
      };
      // The scaling signal counts what waits for a GPU: queued plus held, never what runs.
      await expect.poll(backlog, { timeout: 10_000 }).toBeGreaterThanOrEqual(14);
      expect(await backlog()).toBeLessThanOrEqual(18);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
