import { execFile } from "node:child_process";
import { join, resolve as resolvePath } from "node:path";
import { promisify } from "node:util";
import { redisCommand } from "./probes.js";
import { startRedisServer } from "./redis-server.js";
import type { RedisHandle } from "./types.js";

const run = promisify(execFile);
const HOST = "127.0.0.1";
const CLUSTER_READY_TIMEOUT_MS = 30_000;

export interface RedisClusterHandle {
  /** Seed nodes as REDIS_CLUSTER_NODES takes them: `host:port,host:port,…`. */
  nodes: string;
  /** The master servers, in the order they were created. */
  masters: RedisHandle[];
  /** Moves `slots` hash slots from one master to another while the cluster serves traffic (redis-cli --cluster reshard). */
  reshard(options: { from: RedisHandle; to: RedisHandle; slots: number }): Promise<void>;
  /** The master that serves `key` now. */
  ownerOf(key: string): Promise<RedisHandle>;
  /** How many keys each master holds, in `masters` order. */
  keyCounts(): Promise<number[]>;
  stop(): Promise<void>;
}

async function nodeId(port: number): Promise<string> {
  const id = await redisCommand(HOST, port, ["CLUSTER", "MYID"], 2000);
  if (!id) throw new Error(`redis-server on port ${port} has no cluster node id`);
  return id;
}

async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS;
  for (;;) {
    const states = await Promise.all(ports.map((port) => redisCommand(HOST, port, ["CLUSTER", "INFO"], 2000).catch(() => "")));
    if (states.every((info) => info?.includes("cluster_state:ok"))) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster on ports ${ports.join(", ")} did not reach cluster_state:ok`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A Redis Cluster of `masters` redis-server processes on loopback (no
 * replicas), created with `redis-cli --cluster create` as an operator would.
 * For tests and benchmarks: the service's cluster mode on real servers.
 */
export async function startRedisCluster(options: { dataDir: string; masters?: number; logDir?: string }): Promise<RedisClusterHandle> {
  const dataDir = resolvePath(options.dataDir);
  const count = options.masters ?? 3;
  const masters = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      startRedisServer({
        dataDir: join(dataDir, `node-${index}`),
        clusterEnabled: true,
        ...(options.logDir ? { logFile: join(options.logDir, `redis-cluster-${index}.log`) } : {}),
      }),
    ),
  );
  const ports = masters.map((master) => master.port);
  try {
    await run("redis-cli", ["--cluster", "create", ...ports.map((port) => `${HOST}:${port}`), "--cluster-replicas", "0", "--cluster-yes"], {
      timeout: CLUSTER_READY_TIMEOUT_MS,
    });
    await waitForClusterOk(ports);
  } catch (error) {
    await Promise.all(masters.map((master) => master.stop()));
    throw new Error(`could not create a Redis Cluster (is redis-cli installed?): ${(error as Error).message}`);
  }

  return {
    nodes: ports.map((port) => `${HOST}:${port}`).join(","),
    masters,
    async reshard({ from, to, slots }) {
      const [fromId, toId] = await Promise.all([nodeId(from.port), nodeId(to.port)]);
      await run(
        "redis-cli",
        ["--cluster", "reshard", `${HOST}:${from.port}`, "--cluster-from", fromId, "--cluster-to", toId, "--cluster-slots", String(slots), "--cluster-yes"],
        { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      );
      await waitForClusterOk(ports);
    },
    async ownerOf(key) {
      const slot = Number(await redisCommand(HOST, ports[0]!, ["CLUSTER", "KEYSLOT", key], 2000));
      const nodes = (await redisCommand(HOST, ports[0]!, ["CLUSTER", "NODES"], 2000)) ?? "";
      // Lines read: id host:port@bus flags master ping pong epoch link slot-range...
      const owner = nodes
        .split("\n")
        .map((line) => line.split(" "))
        .find((fields) => fields[2]?.includes("master") && fields.slice(8).some((range) => inRange(range, slot)));
      const port = Number(owner?.[1]?.split("@")[0]?.split(":")[1]);
      const master = masters.find((candidate) => candidate.port === port);
      if (!master) throw new Error(`no master owns slot ${slot} (${key})`);
      return master;
    },
    async keyCounts() {
      return Promise.all(masters.map(async (master) => Number(await redisCommand(HOST, master.port, ["DBSIZE"], 2000))));
    },
    async stop() {
      await Promise.all(masters.map((master) => master.stop()));
    },
  };
}

function inRange(range: string, slot: number): boolean {
  if (range.startsWith("[")) return false; // a slot being migrated
  const [low, high] = range.split("-").map(Number);
  return slot >= low! && slot <= (high ?? low)!;
}
