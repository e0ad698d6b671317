// Starts the system under test on loopback: a private redis-server, two
// simulators (large noisy PNGs, small PNGs), the worker and the API, each a
// child process so the load generator never shares an event loop with them.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import { startServicePair, startSimulator } from "./service-pair.ts";


export const LARGE_MODEL = "bench-large";
export const SMALL_MODEL = "bench-small";
// Long and random-looking enough for the API's key rules; only valid for this run.
const API_KEY = "bench-key-7f3c9a1e5b2d4c6a";

export interface StackOptions {
  workDir: string;
  workerConcurrency: number;
  logLevel: string;
  /** When set, the API and worker write V8 CPU profiles here when they exit. */
  cpuProfileDir?: string | undefined;
}

export interface Stack {
  apiUrl: string;
  apiKey: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  simLargeUrl: string;
  simSmallUrl: string;
  /** Process ids by role, for CPU accounting; redis by its port. */
  pids: { api: number; worker: number; [role: string]: number };
  redisPort: number;
  logDir: string;
}

/**
 * Upstream slots sit above the load's concurrency, so the service never
 * queues in front of the simulator and we measure only its own overhead.
 * Health probes keep the production default (2 s): a probe that times out
 * while the simulator's generations succeed does not count against it.
 */
function catalogYaml(simLargeUrl: string, simSmallUrl: string): string {
  return `models:
  - id: ${LARGE_MODEL}
    sizes: ["1024x1024"]
    max_n: 4
    capabilities: { edits: { max_input_images: 16, mask: true } }
    upstreams: [{ name: sim-large, protocol: openai, base_url: "${simLargeUrl}", model: sim, max_concurrency: 64, timeout_ms: 30000 }]
  - id: ${SMALL_MODEL}
    sizes: ["64x64"]
    upstreams: [{ name: sim-small, protocol: openai, base_url: "${simSmallUrl}", model: sim, max_concurrency: 128, timeout_ms: 30000 }]
`;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const logDir = join(options.workDir, "logs");
  const redis = await startRedisServer({ dataDir: join(options.workDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
  // noise 2 at 1024x1024 gives a ~1.05 MB PNG; the default noise keeps 64x64 tiny anyway.
  const [simLarge, simSmall] = await Promise.all([
    startSimulator("sim-large", { SIM_NOISE: "2" }, logDir),
    startSimulator("sim-small", {}, logDir),
  ]);
  const catalogPath = join(options.workDir, "models.yaml");
  await writeFile(catalogPath, catalogYaml(simLarge.url, simSmall.url));

  const common = {
    REDIS_URL: redis.url,
    MODEL_CATALOG_PATH: catalogPath,
    STORAGE_DRIVER: "fs",
    STORAGE_FS_ROOT: join(options.workDir, "images"),
    LOG_LEVEL: options.logLevel,
    ...(options.cpuProfileDir === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${options.cpuProfileDir}` }),
  };
  const pair = await startServicePair({ env: common, workerConcurrency: options.workerConcurrency, apiKey: API_KEY, logDir });

  return {
    apiUrl: pair.apiUrl,
    apiKey: API_KEY,
    apiMetricsUrl: pair.apiMetricsUrl,
    workerMetricsUrl: pair.workerMetricsUrl,
    simLargeUrl: simLarge.url,
    simSmallUrl: simSmall.url,
    pids: { api: pair.apiPid, worker: pair.workerPid, "sim-large": simLarge.pid, "sim-small": simSmall.pid },
    redisPort: redis.port,
    logDir,
  };
}

/** Stops everything startStack started (API first, Redis last). */
export function stopStack(): Promise<void> {
  return stopAll();
}
