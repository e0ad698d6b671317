import { useScratchRedis } from "@imagegen/local-services/testing";
import { createLogger, createRedisConnection, queuePrefix, type RedisClient } from "@imagegen/shared";
import { DelayedError, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWorkerMetrics } from "../metrics.js";
import { createWorkerRegistry } from "./worker-registry.js";

/** Against a real redis-server: BullMQ's own scripts decide what ran and how it ended. */
let connection: RedisClient;
const prefix = "registry-test";
const log = createLogger({ name: "test", level: "silent" });

const scratch = useScratchRedis("worker-registry");
beforeAll(() => {
  connection = createRedisConnection(scratch.url, "consumer");
});
afterAll(() => connection.disconnect());

async function jobCounts(metrics: ReturnType<typeof createWorkerMetrics>) {
  const counts: Record<string, number> = {};
  for (const value of (await metrics.jobSeconds.get()).values) {
    if (value.metricName === "imagegen_job_duration_seconds_count") counts[`${value.labels.queue} ${value.labels.outcome}`] = value.value;
  }
  return counts;
}

describe("worker registry", () => {
  it("gives every queue's Worker the same settings and starts none before start()", async () => {
    const registry = createWorkerRegistry({ connection, prefix, lockDurationMs: 7000, stalledIntervalMs: 3000, telemetry: undefined, metrics: createWorkerMetrics(), log });
    const images = registry.register({ queue: "settings-a", concurrency: 8, maxStalledCount: 2, processor: async () => "done" });
    const steps = registry.register({ queue: "settings-b", concurrency: 1, processor: async () => "done" });
    for (const worker of [images, steps]) {
      expect(worker.opts).toMatchObject({ prefix: queuePrefix(prefix, worker.name), lockDuration: 7000, stalledInterval: 3000, autorun: false });
      expect(worker.isRunning()).toBe(false);
    }
    expect(images.opts).toMatchObject({ concurrency: 8, maxStalledCount: 2 });
    expect(steps.opts).toMatchObject({ concurrency: 1, maxStalledCount: 1 });
    expect(registry.isRunning()).toBe(false);
    await registry.close();
  });

  it("times the jobs of every queue by outcome (done, failed, put back to wait) and reports only final failures as such", async () => {
    const metrics = createWorkerMetrics();
    const warned = vi.spyOn(log, "warn");
    const debugged = vi.spyOn(log, "debug");
    const registry = createWorkerRegistry({ connection, prefix, lockDurationMs: 5000, stalledIntervalMs: 5000, telemetry: undefined, metrics, log });
    registry.register({
      queue: "alpha",
      concurrency: 4,
      processor: async (job, token) => {
        if (job.name === "fail") throw new Error("boom");
        if (job.name === "blip" && job.attemptsMade === 0) throw new Error("blip");
        if (job.name === "defer") {
          await job.moveToDelayed(Date.now() + 60_000, token);
          throw new DelayedError();
        }
        return { ok: true };
      },
    });
    registry.register({ queue: "beta", concurrency: 1, processor: async () => "done" });
    const alpha = new Queue("alpha", { connection, prefix: queuePrefix(prefix, "alpha") });
    const beta = new Queue("beta", { connection, prefix: queuePrefix(prefix, "beta") });
    await alpha.addBulk([
      { name: "ok", data: {} },
      { name: "fail", data: {} },
      { name: "defer", data: {} },
      { name: "blip", data: {}, opts: { attempts: 2 } },
    ]);
    await beta.add("ok", {});

    await registry.start();
    expect(registry.isRunning()).toBe(true);
    await vi.waitFor(async () => expect(await jobCounts(metrics)).toEqual({ "alpha ok": 2, "alpha error": 2, "alpha deferred": 1, "beta ok": 1 }), { timeout: 10_000, interval: 50 });
    expect(await alpha.getJobCounts("completed", "failed", "delayed")).toEqual({ completed: 2, failed: 1, delayed: 1 });
    const messages = (spy: typeof warned) => spy.mock.calls.map((call) => call[1]);
    expect(messages(warned)).toEqual(["job failed for good"]);
    expect(messages(debugged)).toEqual(["job attempt failed; it will be retried"]);

    await registry.close();
    expect(registry.isRunning()).toBe(false);
    await Promise.all([alpha.close(), beta.close()]);
  });
});
