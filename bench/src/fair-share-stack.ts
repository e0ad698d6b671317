// What the fair-share benchmark runs against, one stack per variant: a
// private redis-server, one simulated GPU of `slots` slots and `latencyMs`
// per call, a model whose upstream has exactly those slots, one worker and
// one API with the admin API on. Workspaces are created through the admin
// API, as an operator would.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startRedisServer, stopAll } from "@imagegen/local-services";
import { z } from "zod";
import { callApi, type ApiCaller } from "./batch-client.ts";
import { startServicePair, startSimulator, writeSimulatorCatalog } from "./service-pair.ts";

export const FAIR_MODEL = "bench-gpu";
const ADMIN_TOKEN = "bench-admin-token-7e1c5a9b3d2f4e6a8c0b";
// The default workspace's key: unused by the scenario, but the API wants one source of keys at least.
const DEFAULT_KEY = "bench-fair-default-key-2d4c6a7f3c9a1e5b";

export interface FairShareStack {
  apiUrl: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  simUrl: string;
}

export async function startFairShareStack(options: {
  workDir: string;
  fairShare: "on" | "off";
  slots: number;
  latencyMs: number;
  workerConcurrency: number;
}): Promise<FairShareStack> {
  const logDir = join(options.workDir, "logs");
  await mkdir(logDir, { recursive: true });
  const redis = await startRedisServer({ dataDir: join(options.workDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
  const simUrl = (await startSimulator("sim-gpu", { SIM_LATENCY_MS: String(options.latencyMs), SIM_MAX_CONCURRENCY: String(options.slots) }, logDir)).url;
  // The model's slots are the GPU's: the service, not the simulator, decides who waits.
  const catalogPath = await writeSimulatorCatalog(options.workDir, [{ id: FAIR_MODEL, upstream: "sim-gpu", url: simUrl, slots: options.slots, timeoutMs: 60_000 }]);
  const pair = await startServicePair({
    suffix: options.fairShare,
    env: {
      REDIS_URL: redis.url,
      MODEL_CATALOG_PATH: catalogPath,
      STORAGE_DRIVER: "fs",
      STORAGE_FS_ROOT: join(options.workDir, "images"),
      LOG_LEVEL: "warn",
      FAIR_SHARE: options.fairShare,
      ADMIN_TOKEN,
    },
    workerConcurrency: options.workerConcurrency,
    apiKey: DEFAULT_KEY,
    logDir,
  });
  return { apiUrl: pair.apiUrl, apiMetricsUrl: pair.apiMetricsUrl, workerMetricsUrl: pair.workerMetricsUrl, simUrl };
}

export const stopFairShareStack = stopAll;

const admin = (stack: FairShareStack): ApiCaller => ({ apiUrl: `${stack.apiUrl}/admin/v1`, apiKey: ADMIN_TOKEN });
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Creates workspace `id` (all models, no limits, weight 1) and mints a key for it; resolves to that workspace's caller. */
export async function createWorkspace(stack: FairShareStack, id: string): Promise<ApiCaller> {
  await callApi(admin(stack), "/workspaces", z.object({ id: z.literal(id) }), json("POST", { id }));
  const { key } = await callApi(admin(stack), `/workspaces/${id}/keys`, z.object({ key: z.string() }), json("POST", { name: "fair-share bench" }));
  return { apiUrl: stack.apiUrl, apiKey: key };
}

export async function setWeight(stack: FairShareStack, id: string, weight: number): Promise<void> {
  // Parsing the answer's weight proves the setting took.
  await callApi(admin(stack), `/workspaces/${id}`, z.object({ id: z.literal(id), weight: z.literal(weight) }), json("PATCH", { weight }));
}

const simulatorStatsSchema = z.object({
  requests: z.number(),
  inFlight: z.number(),
  maxInFlight: z.number(),
  responses: z.object({ ok: z.number(), rejected: z.number() }),
});
export type SimulatorCounters = z.infer<typeof simulatorStatsSchema>;

/** The simulator's own counters (`GET /_sim/stats`): calls answered, slots busy now, refusals for exceeding its slots. */
export async function simulatorCounters(stack: FairShareStack): Promise<SimulatorCounters> {
  const response = await fetch(`${stack.simUrl}/_sim/stats`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET /_sim/stats answered ${response.status}`);
  return simulatorStatsSchema.parse(await response.json());
}
