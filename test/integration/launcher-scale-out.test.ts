import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getFreePort, startRedisServer, type RedisHandle } from "@imagegen/local-services";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, childPids } from "./support/processes.js";

/**
 * `npm start` on infrastructure an operator already runs: with REDIS_URL it
 * uses that Redis instead of starting its own, and WORKERS=N runs N workers.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const apiKey = `sk-scale-${randomBytes(12).toString("hex")}`;
const dataDir = mkdtempSync(join(tmpdir(), "imagegen-launcher-scale-"));
let redis: RedisHandle;
let launcher: ChildProcess;
let terminal = "";
let apiUrl: string;

beforeAll(async () => {
  redis = await startRedisServer({ dataDir: join(dataDir, "external-redis") });
  const port = await getFreePort();
  apiUrl = `http://127.0.0.1:${port}`;
  launcher = spawn(process.execPath, [join(repoRoot, "apps", "local", "dist", "main.js")], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: String(port),
      LOCAL_DATA_DIR: join(dataDir, "local"),
      LOCAL_ECHO_LOGS: "false",
      BOOTSTRAP_API_KEY: apiKey,
      REDIS_URL: redis.url,
      WORKERS: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  launcher.stdout!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  launcher.stderr!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  const deadline = Date.now() + 60_000;
  while (!terminal.includes("Press Ctrl-C to stop.")) {
    if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`npm start did not become ready:\n${terminal}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 90_000);

afterAll(async () => {
  if (launcher.exitCode === null && launcher.signalCode === null) {
    const children = childPids(launcher.pid, "apps/");
    launcher.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 5000));
    for (const pid of [...children, launcher.pid!].filter(alive)) process.kill(pid, "SIGKILL");
  }
  await redis.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("npm start with REDIS_URL and WORKERS", () => {
  it("uses the given Redis, runs two workers, serves, and leaves that Redis running at Ctrl-C", async () => {
    expect(childPids(launcher.pid, "redis-server")).toEqual([]);
    expect(childPids(launcher.pid, "apps/worker/dist/main.js")).toHaveLength(2);
    expect(terminal).toContain(`Redis:     ${redis.url}`);
    expect(terminal).toMatch(/Metrics \(worker-1\)[\s\S]*Metrics \(worker-2\)/);

    const client = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, index) => client.images.generate({ model: "sim-turbo", prompt: `scaled ${index}`, size: "512x512" })));
    expect(results.every((result) => result.data?.length === 1)).toBe(true);

    const exited = new Promise((resolve) => launcher.once("exit", resolve));
    launcher.kill("SIGINT");
    await exited;
    expect(terminal).toContain("stopping the API, workers, simulator...");
    // The operator's Redis is still there.
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await probe.ping()).toBe("PONG");
    } finally {
      probe.disconnect();
    }
  }, 60_000);
});
