import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { redisCommand } from "./probes.js";
import { startRedisServer } from "./redis-server.js";
import { stopAll } from "./registry.js";

const send = (port: number, ...args: string[]) => redisCommand("127.0.0.1", port, args, 2_000);

describe("startRedisServer", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "local-services-redis-"));
  });
  afterEach(async () => {
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers PING on the returned URL and is configured for BullMQ", async () => {
    const redis = await startRedisServer({ dataDir: join(dataDir, "nested") });
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await send(redis.port, "PING")).toBe("PONG");
    const info = await send(redis.port, "INFO", "memory");
    expect(info).toContain("maxmemory_policy:noeviction");
    expect(await send(redis.port, "INFO", "persistence")).toContain("aof_enabled:1");
    await redis.stop();
  });

  it("keeps acknowledged writes across a crash (kill) and restart thanks to the AOF", async () => {
    const redis = await startRedisServer({ dataDir });
    expect(await send(redis.port, "SET", "job:1", "queued")).toBe("OK");
    // everysec fsync: a process crash loses nothing already written, but wait out
    // one fsync period so the test holds even on slow disks.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await redis.kill();
    await expect(send(redis.port, "PING")).rejects.toThrow();
    await redis.restart();
    expect(await send(redis.port, "GET", "job:1")).toBe("queued");
    expect(await send(redis.port, "GET", "never-set")).toBeNull();
  });

  it("stop() is graceful and idempotent, and restart() brings the same port back", async () => {
    const redis = await startRedisServer({ dataDir, appendOnly: false });
    await redis.stop();
    await redis.stop();
    await expect(send(redis.port, "PING")).rejects.toThrow();
    await redis.restart();
    expect(await send(redis.port, "PING")).toBe("PONG");
  });

  it("fails with an install hint when redis-server is missing", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = dataDir; // an empty folder: nothing to execute
    try {
      await expect(startRedisServer({ dataDir })).rejects.toThrow(/apt-get install -y redis-server/);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("fails with redis-server's own message when the port is taken", async () => {
    const first = await startRedisServer({ dataDir: join(dataDir, "a") });
    await expect(startRedisServer({ dataDir: join(dataDir, "b"), port: first.port })).rejects.toThrow(/exited with code 1[\s\S]*(in use|bind)/i);
  });
});
