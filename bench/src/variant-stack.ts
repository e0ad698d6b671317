// Starts one redis-server and one zero-latency simulator, then one API and
// worker pair per variant (each variant its own environment and queue
// prefix), so variants of the service run side by side on the same machine
// and the load generator can alternate between them.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import { startServicePair, startSimulator, writeSimulatorCatalog } from "./service-pair.ts";

const API_KEY = "bench-variant-key-5b2d4c6a7f3c9a1e";
export const VARIANT_MODEL = "bench-small";
/** 1024x1024 from a simulator with noise 2: a ~1.05 MB PNG, 1.4 MB as b64_json (only with `largeImages`). */
export const VARIANT_LARGE_MODEL = "bench-large";

export interface Variant {
  name: string;
  /** Extra environment for both the API and the worker of this variant. */
  env: Record<string, string>;
  /** Another build of the service to run (a checkout with its apps built); default this one. */
  repoRoot?: string;
}

export interface VariantService {
  name: string;
  apiUrl: string;
  apiKey: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  pids: { api: number; worker: number };
}

export async function startVariantStacks(options: {
  workDir: string;
  variants: readonly Variant[];
  workerConcurrency: number;
  logLevel: string;
  /** Also start a simulator of ~1 MB images, served as VARIANT_LARGE_MODEL. */
  largeImages?: boolean;
}): Promise<{ simUrl: string; simLargeUrl: string | undefined; services: VariantService[] }> {
  const logDir = join(options.workDir, "logs");
  await mkdir(logDir, { recursive: true });
  const redis = await startRedisServer({ dataDir: join(options.workDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
  const simUrl = (await startSimulator("sim", {}, logDir)).url;
  const simLargeUrl = options.largeImages ? (await startSimulator("sim-large", { SIM_NOISE: "2" }, logDir)).url : undefined;
  // Slots above the load's concurrency: the service never queues in front of the simulator.
  const catalogPath = await writeSimulatorCatalog(options.workDir, [
    { id: VARIANT_MODEL, upstream: "sim-small", url: simUrl, slots: 256 },
    ...(simLargeUrl === undefined ? [] : [{ id: VARIANT_LARGE_MODEL, upstream: "sim-large", url: simLargeUrl, slots: 256, size: "1024x1024" }]),
  ]);

  const services: VariantService[] = [];
  for (const variant of options.variants) {
    const common = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `bench-${variant.name}`,
      MODEL_CATALOG_PATH: catalogPath,
      STORAGE_DRIVER: "fs",
      STORAGE_FS_ROOT: join(options.workDir, "images"),
      LOG_LEVEL: options.logLevel,
      ...variant.env,
    };
    const pair = await startServicePair({
      suffix: variant.name,
      env: common,
      workerConcurrency: options.workerConcurrency,
      apiKey: API_KEY,
      logDir,
      ...(variant.repoRoot ? { repoRoot: variant.repoRoot } : {}),
    });
    services.push({
      name: variant.name,
      apiUrl: pair.apiUrl,
      apiKey: API_KEY,
      apiMetricsUrl: pair.apiMetricsUrl,
      workerMetricsUrl: pair.workerMetricsUrl,
      pids: { api: pair.apiPid, worker: pair.workerPid },
    });
  }
  return { simUrl, simLargeUrl, services };
}

/** Stops everything startVariantStacks started. */
export function stopVariantStacks(): Promise<void> {
  return stopAll();
}
