import { mkdir } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { killChildNow, settledOutput, spawnWithOutput, type RunningChild } from "./child-process.js";
import { getFreePort } from "./free-port.js";
import { pollUntilReady, redisCommand } from "./probes.js";
import { startRestartableChild } from "./restartable.js";
import type { RedisHandle } from "./types.js";

const HOST = "127.0.0.1";
// Replaying a large AOF can take a while; a missing binary or a taken port fails at once anyway.
const READY_TIMEOUT_MS = 30_000;
// Redis flushes the AOF on SIGTERM; only a wedged server needs longer.
const STOP_TIMEOUT_MS = 10_000;

export interface RedisServerOptions {
  dataDir: string;
  port?: number;
  /** Default true: queue state must survive a crash (BullMQ jobs live in Redis). */
  appendOnly?: boolean;
  logFile?: string;
  /** Run as a Redis Cluster node (nodes.conf in `dataDir`); see startRedisCluster. */
  clusterEnabled?: boolean;
}

/** The redis.conf settings as command-line flags; shared with the container backend. */
export function redisServerArgs(options: { port: number; bind: string; dir: string; appendOnly: boolean; clusterEnabled?: boolean }): string[] {
  const cluster = options.clusterEnabled
    ? ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]
    : [];
  return [
    ...cluster,
    "--port", String(options.port),
    "--bind", options.bind,
    "--dir", options.dir,
    "--appendonly", options.appendOnly ? "yes" : "no",
    // everysec: a crashed process loses nothing already written; an OS crash loses at most ~1 s.
    "--appendfsync", "everysec",
    "--save", "", // no RDB snapshots: the AOF is the persistence
    "--daemonize", "no", // we must own the process to stop or kill it
    "--protected-mode", "no", // loopback only, no password
    "--maxmemory-policy", "noeviction", // BullMQ refuses to run if Redis may evict its keys
  ];
}

async function launch(options: { port: number; dataDir: string; appendOnly: boolean; logFile?: string; clusterEnabled: boolean }): Promise<RunningChild> {
  const args = redisServerArgs({ port: options.port, bind: HOST, dir: options.dataDir, appendOnly: options.appendOnly, clusterEnabled: options.clusterEnabled });
  let running: RunningChild;
  try {
    running = await spawnWithOutput({ command: "redis-server", args, env: process.env, logFile: options.logFile });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "redis-server is not installed (not found on PATH). Install it, e.g. `apt-get install -y redis-server` " +
          "on Debian/Ubuntu or `brew install redis` on macOS, or run with IMAGEGEN_SERVICES=docker.",
      );
    }
    throw error;
  }
  const outcome = await pollUntilReady({
    // INFO rather than PING: when the port is already taken, another Redis would
    // answer PING before our child has even failed to bind.
    probe: async (attemptTimeoutMs) => {
      const info = await redisCommand(HOST, options.port, ["INFO", "server"], attemptTimeoutMs);
      return info?.includes(`process_id:${running.pid}\r\n`) === true;
    },
    intervalMs: 50,
    timeoutMs: READY_TIMEOUT_MS,
    exited: running.exited,
  });
  if (outcome === "ready") return running;
  killChildNow(running);
  const reason = outcome === "exited" ? `exited with code ${String(await running.exited)}` : `did not answer INFO within ${READY_TIMEOUT_MS} ms`;
  throw new Error(`redis-server on port ${options.port} ${reason}. Output:\n${await settledOutput(running)}`);
}

/** Runs a private redis-server child with its data in `dataDir`. */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisHandle & { exited(): Promise<number | null> | undefined }> {
  const dataDir = resolvePath(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await getFreePort(HOST));
  const launchOptions = { port, dataDir, appendOnly: options.appendOnly ?? true, logFile: options.logFile, clusterEnabled: options.clusterEnabled ?? false };
  const controls = await startRestartableChild({
    name: `redis-server:${port}`,
    launch: () => launch(launchOptions),
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return { url: `redis://${HOST}:${port}`, port, dataDir, ...controls };
}
