import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startRedisServer } from "./redis-server.js";
import type { RedisHandle } from "./types.js";

/**
 * A private redis-server for the calling test file, so files never share
 * data and run in parallel: started in a fresh temporary folder before the
 * file's tests, stopped after them and its folder removed. Read `url` (or
 * `server`, to restart or kill it) in the file's own hooks and tests: the
 * server exists from this beforeAll on, which runs before hooks registered
 * after this call, and afterAll hooks run in reverse, so the file's own
 * connections close before the server stops.
 */
export function useScratchRedis(name: string): { readonly url: string; readonly server: RedisHandle } {
  let server: RedisHandle | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${name}-`));
    server = await startRedisServer({ dataDir });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });
  const started = (): RedisHandle => {
    if (!server) throw new Error(`useScratchRedis("${name}"): the server starts in beforeAll; read it in a hook or a test`);
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get server() {
      return started();
    },
  };
}
