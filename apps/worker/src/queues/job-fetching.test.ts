import { useScratchRedis } from "@imagegen/local-services/testing";
import { createLogger, createRedisConnection, type RedisClient } from "@imagegen/shared";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerMetrics } from "../metrics.js";
import { createWorkerRegistry } from "./worker-registry.js";

/**
 * BullMQ's Worker, as shipped, fetches jobs one round trip at a time until it
 * holds `concurrency` of them, and only then starts the first: 256 fetches
 * (~80 ms here) while GPU slots sat idle at a batch's start. The project
 * carries a patch (patches/bullmq@*.patch) so that a worker running few jobs
 * starts each as soon as it is fetched. This checks the installed BullMQ
 * behaves so, against a real redis-server.
 */
let connection: RedisClient;
const log = createLogger({ name: "test", level: "silent" });
const scratch = useScratchRedis("job-fetching");
beforeAll(() => {
  connection = createRedisConnection(scratch.url, "consumer");
});
afterAll(() => connection.disconnect());

describe("a worker with many jobs waiting", () => {
  it("starts its first job before fetching the rest", async () => {
    const registry = createWorkerRegistry({ connection, prefix: "fetch-test", lockDurationMs: 30_000, stalledIntervalMs: 30_000, telemetry: undefined, metrics: createWorkerMetrics(), log });
    const jobs = 200;
    let waitingAtFirstStart: number | undefined;
    const started: string[] = [];
    const worker = registry.register({
      queue: "fetch-order",
      concurrency: jobs,
      processor: async (job) => {
        started.push(job.id!);
        // The Worker fetches on this same connection, so this count is taken
        // after every fetch it had sent before the first job started.
        if (started.length === 1) waitingAtFirstStart = await connection.llen(worker.keys.wait!);
        return "done";
      },
    });
    const queue = new Queue("fetch-order", { connection, prefix: worker.opts.prefix });
    await queue.addBulk(Array.from({ length: jobs }, (_, index) => ({ name: "job", data: { index } })));

    await registry.start();
    await expect.poll(() => started.length, { timeout: 10_000 }).toBe(jobs);
    // As shipped the count is 0: all 200 were fetched before any started.
    expect(waitingAtFirstStart).toBeGreaterThan(jobs / 2);

    await registry.close();
    await queue.close();
  });
});
