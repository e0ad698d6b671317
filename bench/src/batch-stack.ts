// Starts what the batch benchmark measures, on loopback: a private
// redis-server, a zero-latency simulator, a simulator with K slots of T ms,
// the worker processes and the API, each a child process.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import { findRedisPid } from "./cpu-usage.ts";
import { startServicePair, startSimulator, writeSimulatorCatalog } from "./service-pair.ts";

const API_KEY = "bench-batch-key-3c9a1e5b2d4c6a7f";

export const ZERO_MODEL = "bench-zero";
export const SLOTS_MODEL = "bench-slots";

export interface BatchStack {
  apiUrl: string;
  apiKey: string;
  /** The K-slot simulator, for the direct baseline. */
  slotsSimulatorUrl: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  redisUrl: string;
  /** `worker` is the first worker's; `workers` has every one; `zeroSimulator` serves the zero-latency model. */
  pids: { api: number; worker: number; workers: number[]; redis: number | undefined; zeroSimulator: number };
}

/** `workers`: worker processes sharing the queue and the GPU slots (default 1). */
export async function startBatchStack(options: { workDir: string; slots: number; slotLatencyMs: number; workers?: number }): Promise<BatchStack> {
  const logDir = join(options.workDir, "logs");
  await mkdir(logDir, { recursive: true });
  const redis = await startRedisServer({ dataDir: join(options.workDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
  const [zero, slots] = await Promise.all([
    startSimulator("sim-zero", {}, logDir),
    startSimulator("sim-slots", { SIM_LATENCY_MS: String(options.slotLatencyMs), SIM_MAX_CONCURRENCY: String(options.slots) }, logDir),
  ]);
  const catalogPath = await writeSimulatorCatalog(options.workDir, [
    { id: ZERO_MODEL, upstream: "sim-zero", url: zero.url, slots: 256 },
    { id: SLOTS_MODEL, upstream: "sim-slots", url: slots.url, slots: options.slots },
  ]);
  const common = {
    REDIS_URL: redis.url,
    MODEL_CATALOG_PATH: catalogPath,
    STORAGE_DRIVER: "fs",
    STORAGE_FS_ROOT: join(options.workDir, "images"),
    LOG_LEVEL: "warn",
  };
  const pair = await startServicePair({ env: common, workerConcurrency: 256, workers: options.workers ?? 1, apiKey: API_KEY, logDir });
  return {
    apiUrl: pair.apiUrl,
    apiKey: API_KEY,
    slotsSimulatorUrl: slots.url,
    apiMetricsUrl: pair.apiMetricsUrl,
    workerMetricsUrl: pair.workerMetricsUrl,
    redisUrl: redis.url,
    pids: { api: pair.apiPid, worker: pair.workerPid, workers: pair.workerPids, redis: await findRedisPid(redis.port), zeroSimulator: zero.pid },
  };
}

export const stopBatchStack = stopAll;
