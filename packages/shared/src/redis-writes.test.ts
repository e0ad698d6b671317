import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { luaScript } from "./lua-script.js";
import { createRedisConnection } from "./redis.js";

let dataDir: string;
let url: string;
const clients: Redis[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shared-redis-writes-"));
  url = (await startRedisServer({ dataDir })).url;
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await stopAll();
  await rm(dataDir, { recursive: true, force: true });
});

async function connected(role: "producer" | "consumer"): Promise<Redis> {
  const client = createRedisConnection(url, role) as Redis;
  clients.push(client);
  // A producer has no offline queue: wait until it is connected.
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

/** Counts the socket's writes to the kernel from now on (one per `_write`, or per `_writev` batch). */
function countWrites(client: Redis): () => number {
  const socket = client.stream as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = socket[method].bind(socket);
    socket[method] = (...args: unknown[]) => {
      writes++;
      original(...args);
    };
  }
  return () => writes;
}

const INCR_BY = luaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);

describe("commands sent in one tick", () => {
  it.each(["producer", "consumer"] as const)("go out in one write on a %s connection, and every reply still answers its own command", async (role) => {
    const client = await connected(role);
    const writes = countWrites(client);
    const key = `writes:${role}`;
    // 600 commands of five kinds issued in one tick, plain commands, scripts and a MULTI mixed.
    const replies = await Promise.all(
      Array.from({ length: 120 }, (_, i) => [
        client.set(`${key}:${i}`, `value-${i}`),
        client.get(`${key}:${i}`),
        client.incr(`${key}:count`),
        INCR_BY(client, [`${key}:sum`], [i]),
        client.multi().incr(`${key}:multi`).get(`${key}:${i}`).exec(),
      ]).flat(),
    );
    expect(writes()).toBeLessThanOrEqual(3);
    for (let i = 0; i < 120; i++) {
      const [set, get, count, sum, multi] = replies.slice(i * 5, i * 5 + 5);
      expect(set).toBe("OK");
      expect(get).toBe(`value-${i}`);
      expect(count).toBe(i + 1);
      expect(sum).toBe((i * (i + 1)) / 2);
      expect(multi).toEqual([
        [null, i + 1],
        [null, `value-${i}`],
      ]);
    }
  });

  it("leaves a command of a later tick to a write of its own", async () => {
    const client = await connected("producer");
    const writes = countWrites(client);
    await client.set("writes:later", "1");
    await client.get("writes:later");
    await client.del("writes:later");
    expect(writes()).toBe(3);
  });
});
