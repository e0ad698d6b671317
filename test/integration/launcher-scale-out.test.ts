import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, type RedisHandle } from "@imagegen/local-services";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLauncher, type Launched } from "./support/launcher.js";
import { childPids } from "./support/processes.js";

/**
 * `npm start` on infrastructure an operator already runs: with REDIS_URL it
 * uses that Redis instead of starting its own, and WORKERS=N runs N workers.
 */
const apiKey = `sk-scale-${randomBytes(12).toString("hex")}`;
const dataDir = mkdtempSync(join(tmpdir(), "imagegen-launcher-scale-"));
let redis: RedisHandle;
let launched: Launched;

beforeAll(async () => {
  redis = await startRedisServer({ dataDir: join(dataDir, "external-redis") });
  launched = await startLauncher({ LOCAL_DATA_DIR: join(dataDir, "local"), BOOTSTRAP_API_KEY: apiKey, REDIS_URL: redis.url, WORKERS: "2" });
}, 90_000);

afterAll(async () => {
  await launched?.stopIfRunning();
  await redis.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("npm start with REDIS_URL and WORKERS", () => {
  it("uses the given Redis, runs two workers, serves, and leaves that Redis running at Ctrl-C", async () => {
    expect(childPids(launched.process.pid, "redis-server")).toEqual([]);
    expect(childPids(launched.process.pid, "apps/worker/dist/main.js")).toHaveLength(2);
    expect(launched.terminal()).toContain(`Redis:     ${redis.url}`);
    expect(launched.terminal()).toMatch(/Metrics \(worker-1\)[\s\S]*Metrics \(worker-2\)/);

    const client = new OpenAI({ baseURL: `${launched.apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, index) => client.images.generate({ model: "sim-turbo", prompt: `scaled ${index}`, size: "512x512" })));
    expect(results.every((result) => result.data?.length === 1)).toBe(true);

    const exited = new Promise((resolve) => launched.process.once("exit", resolve));
    launched.process.kill("SIGINT");
    await exited;
    expect(launched.terminal()).toContain("stopping the API, workers, simulator...");
    // The operator's Redis is still there.
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await probe.ping()).toBe("PONG");
    } finally {
      probe.disconnect();
    }
  }, 60_000);
});
