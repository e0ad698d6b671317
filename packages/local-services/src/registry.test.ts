import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getFreePort } from "./free-port.js";
import { startNodeService } from "./node-service.js";
import { redisCommand } from "./probes.js";
import { startRedisServer } from "./redis-server.js";
import { stopAll } from "./registry.js";

describe("stopAll", () => {
  it("stops every server and process started, leaving nothing behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "local-services-all-"));
    try {
      const redis = await startRedisServer({ dataDir: join(dir, "redis") });
      await writeFile(join(dir, "idle.mjs"), `setInterval(() => {}, 1000);`);
      const service = await startNodeService({ name: "idle", entry: join(dir, "idle.mjs"), env: {} });
      await stopAll();
      expect(await service.exited).toBeNull(); // ended by SIGTERM
      await expect(redisCommand("127.0.0.1", redis.port, ["PING"], 1_000)).rejects.toThrow();
      await stopAll(); // nothing left: a second call is harmless

      // A server restarted after stopAll() (fault tests do this) is tracked again.
      await redis.restart();
      expect(await redisCommand("127.0.0.1", redis.port, ["PING"], 1_000)).toBe("PONG");
      await stopAll();
      await expect(redisCommand("127.0.0.1", redis.port, ["PING"], 1_000)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("getFreePort returns a bindable port", async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(1023);
  });
});
