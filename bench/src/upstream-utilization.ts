// Upstream pool utilization: three simulated GPU servers of different speeds
// and slot counts (each speaking another protocol) behind one model, driven
// through the API with synchronous calls by more callers than there are
// slots. Achieved throughput is compared with the ideal, the sum of
// slots / latency, and the p99 time sync requests waited for a GPU slot is
// read from the worker's own histogram.
//
//   node bench/src/upstream-utilization.ts [--seconds 20] [--callers 36]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getFreePort, startNodeService, startRedisServer, stopAll } from "@imagegen/local-services";
import { Pool } from "undici";
import { failureCount, runClosedLoop } from "./load.ts";
import { summarize } from "./stats.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const entry = (app: string): string => join(REPO_ROOT, "apps", app, "dist", "main.js");
const API_KEY = "bench-key-utilization-5e1f0c2a";
const MODEL = "bench-pool";

/** Different speeds and slot counts, and one protocol each, so routing has real choices to make. */
const UPSTREAMS = [
  { name: "gpu-fast", protocol: "openai", latencyMs: 100, slots: 4 },
  { name: "gpu-medium", protocol: "a1111", latencyMs: 250, slots: 6 },
  { name: "gpu-slow", protocol: "cog", latencyMs: 500, slots: 8 },
] as const;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** Cumulative buckets of one histogram (all label sets summed), by upper bound. */
async function scrapeBuckets(url: string, name: string): Promise<Map<number, number>> {
  const text = await (await fetch(url)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split("\n")) {
    const match = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\}\\s+(\\S+)`).exec(line);
    if (!match) continue;
    const bound = match[1] === "+Inf" ? Infinity : Number(match[1]);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** A quantile from cumulative bucket counts, interpolated linearly inside its bucket (as PromQL's histogram_quantile). */
function bucketQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = counts.at(-1) ?? 0;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower;
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, counts[i]! - below);
    }
  }
  return NaN;
}

async function main(): Promise<void> {
  const seconds = flag("seconds", 20);
  const callers = flag("callers", 36);
  const workDir = mkdtempSync(join(tmpdir(), "imagegen-util-"));
  const logDir = join(workDir, "logs");
  const idealPerSecond = UPSTREAMS.reduce((sum, upstream) => sum + upstream.slots / (upstream.latencyMs / 1000), 0);
  const totalSlots = UPSTREAMS.reduce((sum, upstream) => sum + upstream.slots, 0);
  try {
    const redis = await startRedisServer({ dataDir: join(workDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
    const sims = await Promise.all(
      UPSTREAMS.map(async (upstream) => {
        const port = await getFreePort();
        const url = `http://127.0.0.1:${port}`;
        await startNodeService({
          name: upstream.name,
          entry: entry("simulator"),
          env: { SIM_PORT: String(port), SIM_HOST: "127.0.0.1", SIM_LATENCY_MS: String(upstream.latencyMs), SIM_MAX_CONCURRENCY: String(upstream.slots) },
          readyUrl: `${url}/health`,
          logFile: join(logDir, `${upstream.name}.log`),
        });
        return { ...upstream, url };
      }),
    );
    const catalogPath = join(workDir, "models.yaml");
    const upstreamLines = sims.map(
      (sim) => `      - { name: ${sim.name}, protocol: ${sim.protocol}, base_url: "${sim.url}", max_concurrency: ${sim.slots}, timeout_ms: 30000 }`,
    );
    writeFileSync(catalogPath, `models:\n  - id: ${MODEL}\n    sizes: ["64x64"]\n    upstreams:\n${upstreamLines.join("\n")}\n`);

    const common = { REDIS_URL: redis.url, MODEL_CATALOG_PATH: catalogPath, STORAGE_DRIVER: "fs", STORAGE_FS_ROOT: join(workDir, "images"), METRICS_HOST: "127.0.0.1", LOG_LEVEL: "warn", NODE_ENV: "production" };
    const workerMetricsPort = await getFreePort();
    await startNodeService({
      name: "worker",
      entry: entry("worker"),
      env: { ...common, WORKER_CONCURRENCY: "128", METRICS_PORT: String(workerMetricsPort) },
      readyUrl: `http://127.0.0.1:${workerMetricsPort}/readyz`,
      logFile: join(logDir, "worker.log"),
    });
    const [apiPort, apiMetricsPort] = await Promise.all([getFreePort(), getFreePort()]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await startNodeService({
      name: "api",
      entry: entry("api"),
      env: { ...common, URL_SIGNING_SECRET: "bench-url-signing-secret-0123456789abcdef", PORT: String(apiPort), HOST: "127.0.0.1", PUBLIC_BASE_URL: apiUrl, API_KEYS: API_KEY, METRICS_PORT: String(apiMetricsPort) },
      readyUrl: `${apiUrl}/readyz`,
      logFile: join(logDir, "api.log"),
    });

    const workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    const pool = new Pool(apiUrl, { connections: callers });
    const spec = {
      path: "/v1/images/generations",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, prompt: "a lighthouse at dusk", size: "64x64" }),
    };
    // Warm-up: fill every slot once so connections and caches exist.
    await runClosedLoop(pool, spec, { concurrency: callers, requests: totalSlots * 3 });
    await Promise.all(sims.map((sim) => fetch(`${sim.url}/_sim/reset`, { method: "POST" })));
    const slotWaitBefore = await scrapeBuckets(workerMetricsUrl, "imagegen_upstream_slot_wait_seconds");
    const queueWaitBefore = await scrapeBuckets(workerMetricsUrl, "imagegen_queue_wait_seconds");

    const result = await runClosedLoop(pool, spec, { concurrency: callers, requests: Math.round(idealPerSecond * seconds) });
    const slotWaitAfter = await scrapeBuckets(workerMetricsUrl, "imagegen_upstream_slot_wait_seconds");
    const queueWaitAfter = await scrapeBuckets(workerMetricsUrl, "imagegen_queue_wait_seconds");
    const stats = await Promise.all(
      sims.map(async (sim) => ({ sim, stats: (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { responses: { ok: number; rejected: number }; maxInFlight: number } })),
    );
    await pool.close();

    const achievedPerSecond = result.latenciesMs.length / (result.elapsedMs / 1000);
    const latency = summarize(result.latenciesMs);
    console.log(`upstream pool utilization: ${callers} sync callers, ${result.latenciesMs.length} requests in ${(result.elapsedMs / 1000).toFixed(1)} s, ${failureCount(result)} failed\n`);
    console.log("upstream      protocol  latency  slots  ideal/s  served/s  share   maxInFlight  rejected");
    for (const { sim, stats: own } of stats) {
      const ideal = sim.slots / (sim.latencyMs / 1000);
      const served = own.responses.ok / (result.elapsedMs / 1000);
      console.log(
        `${sim.name.padEnd(13)} ${sim.protocol.padEnd(9)} ${String(sim.latencyMs).padStart(4)} ms  ${String(sim.slots).padStart(5)}  ${ideal.toFixed(1).padStart(7)}  ${served.toFixed(1).padStart(8)}  ${((100 * served) / ideal).toFixed(1).padStart(5)}%  ${String(own.maxInFlight).padStart(11)}  ${String(own.responses.rejected).padStart(8)}`,
      );
    }
    const utilization = achievedPerSecond / idealPerSecond;
    console.log(`\nideal (sum of slots/latency)   ${idealPerSecond.toFixed(1)} req/s`);
    console.log(`achieved                       ${achievedPerSecond.toFixed(1)} req/s`);
    console.log(`[${utilization >= 0.95 ? "PASS" : "MISS"}] achieved / ideal          ${(100 * utilization).toFixed(1)} %  (target ≥ 95 %)`);
    console.log(`sync slot wait p50 / p99       ${(1000 * bucketQuantile(slotWaitBefore, slotWaitAfter, 0.5)).toFixed(0)} / ${(1000 * bucketQuantile(slotWaitBefore, slotWaitAfter, 0.99)).toFixed(0)} ms  (worker histogram, interpolated)`);
    console.log(`sync BullMQ queue wait p99     ${(1000 * bucketQuantile(queueWaitBefore, queueWaitAfter, 0.99)).toFixed(1)} ms`);
    console.log(`caller latency p50 / p99       ${latency.p50Ms.toFixed(0)} / ${latency.p99Ms.toFixed(0)} ms`);
    if (failureCount(result) > 0) {
      console.log([...result.failures].map(([reason, count]) => `  ${count} × ${reason}`).join("\n"));
      process.exitCode = 1;
    }
  } finally {
    await stopAll();
    if (process.exitCode !== 1) rmSync(workDir, { recursive: true, force: true });
    else console.log(`logs kept in ${logDir}`);
  }
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
