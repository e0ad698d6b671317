// Starts one API and one or more worker processes as the benchmarks need
// them: the same environment for all, ready when their /readyz answers, logs
// to files; and the simulated GPU servers they call, with the model library
// naming them.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getFreePort, startNodeService } from "@imagegen/local-services";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** An app's built entry point, of this checkout or of another build of the service (`repoRoot`). */
export const entry = (app: string, repoRoot: string = REPO_ROOT): string => join(repoRoot, "apps", app, "dist", "main.js");

/**
 * A Node process on a free loopback port, its environment made from that
 * port; resolves to its base URL and pid once `{url}/health` answers. Logs
 * to `{logDir}/{name}.log`.
 */
export async function startOnFreePort(name: string, entryPath: string, env: (port: number) => Record<string, string>, logDir: string): Promise<{ url: string; pid: number }> {
  const port = await getFreePort();
  const url = `http://127.0.0.1:${port}`;
  const started = await startNodeService({ name, entry: entryPath, env: env(port), readyUrl: `${url}/health`, logFile: join(logDir, `${name}.log`) });
  return { url, pid: started.pid };
}

/** A simulator process on a free loopback port (`SIM_*` settings in `env`). */
export function startSimulator(name: string, env: Record<string, string>, logDir: string): Promise<{ url: string; pid: number }> {
  return startOnFreePort(name, entry("simulator"), (port) => ({ SIM_PORT: String(port), SIM_HOST: "127.0.0.1", ...env }), logDir);
}

/**
 * Writes `models.yaml` in `workDir`: each model of one size (64x64 unless said), served by one
 * simulator over the OpenAI protocol with `slots` concurrent calls; resolves to its path.
 * Health probes keep the production default: a busy simulator's late answer to a probe is not
 * held against it while its generations succeed.
 */
export async function writeSimulatorCatalog(
  workDir: string,
  models: ReadonlyArray<{ id: string; upstream: string; url: string; slots: number; timeoutMs?: number; size?: string }>,
): Promise<string> {
  const path = join(workDir, "models.yaml");
  const entries = models.map((model) => {
    const timeoutMs = model.timeoutMs ?? 30_000;
    return `  - id: ${model.id}
    sizes: ["${model.size ?? "64x64"}"]
    upstreams: [{ name: ${model.upstream}, protocol: openai, base_url: "${model.url}", model: sim, max_concurrency: ${model.slots}, timeout_ms: ${timeoutMs} }]
`;
  });
  await writeFile(path, `models:\n${entries.join("")}`);
  return path;
}

export const BENCH_URL_SIGNING_SECRET = "bench-url-signing-secret-0123456789abcdef";

export interface ServicePair {
  apiUrl: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  apiPid: number;
  /** The first worker's. */
  workerPid: number;
  /** Every worker's, the first one first. */
  workerPids: number[];
}

export async function startServicePair(options: {
  /** Appended to process names and log files, e.g. "on" → api-on.log. */
  suffix?: string;
  /** Environment of both processes (Redis, catalog, storage, log level…). */
  env: Record<string, string>;
  workerConcurrency: number;
  /** Worker processes sharing the queue, as deployments run them (default 1). */
  workers?: number;
  apiKey: string;
  logDir: string;
  /** Run another build of the service (a checkout with its apps built); default this one. */
  repoRoot?: string;
}): Promise<ServicePair> {
  const tag = options.suffix ? `-${options.suffix}` : "";
  const env = { METRICS_HOST: "127.0.0.1", NODE_ENV: "production", ...options.env };
  const workerMetricsPorts: number[] = [];
  const workerPids: number[] = [];
  for (let index = 0; index < (options.workers ?? 1); index++) {
    const name = index === 0 ? `worker${tag}` : `worker${tag}-${index + 1}`;
    const metricsPort = await getFreePort();
    const worker = await startNodeService({
      name,
      entry: entry("worker", options.repoRoot),
      env: { ...env, WORKER_CONCURRENCY: String(options.workerConcurrency), METRICS_PORT: String(metricsPort) },
      readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
      logFile: join(options.logDir, `${name}.log`),
    });
    workerMetricsPorts.push(metricsPort);
    workerPids.push(worker.pid);
  }
  const [apiPort, apiMetricsPort] = [await getFreePort(), await getFreePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = await startNodeService({
    name: `api${tag}`,
    entry: entry("api", options.repoRoot),
    env: {
      ...env,
      URL_SIGNING_SECRET: BENCH_URL_SIGNING_SECRET,
      PORT: String(apiPort),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: apiUrl,
      API_KEYS: options.apiKey,
      METRICS_PORT: String(apiMetricsPort),
    },
    readyUrl: `${apiUrl}/readyz`,
    logFile: join(options.logDir, `api${tag}.log`),
  });
  return {
    apiUrl,
    apiMetricsUrl: `http://127.0.0.1:${apiMetricsPort}/metrics`,
    workerMetricsUrl: `http://127.0.0.1:${workerMetricsPorts[0]}/metrics`,
    apiPid: api.pid,
    workerPid: workerPids[0]!,
    workerPids,
  };
}
