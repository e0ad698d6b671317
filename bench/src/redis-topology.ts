// `npm run bench -- redis-topology [--quick] [--rounds N]`: what scaling past
// one Redis and one worker costs, side by side in one run on one machine.
//
//   1. Global GPU slots at c=1: the same service with GPU_SLOTS_SCOPE=global
//      (a Redis lease per upstream call) and =process, on one redis-server;
//      the p50 difference is what the global cap adds per request (target ≤ 0.2 ms).
//   2. One redis-server against a 3-master Redis Cluster (redis-server in
//      cluster mode): synchronous throughput at c=64, and the rate a batch's
//      lines are dispatched and run to a zero-latency simulator.
// Rounds alternate between the variants (a, b, b, a, ...) so the machine's
// noise hits both alike. 64x64 PNG, url responses, a zero-latency simulator.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startRedisCluster } from "@imagegen/local-services";
import { alternateRounds, loadLine, requestsPerSecond, runVariantBench } from "./alternate.ts";
import { failureCount, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { startVariantStacks, VARIANT_MODEL, type VariantService } from "./variant-stack.ts";

const GLOBAL_SLOT_TARGET_MS = 0.2;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
  },
});
const plan = {
  rounds: Number(flags.rounds ?? (flags.quick ? 2 : 8)),
  latencyRequests: flags.quick ? 300 : 1000,
  throughputRequests: flags.quick ? 1000 : 3000,
  batchLines: flags.quick ? 2000 : 10_000,
  warmup: flags.quick ? 300 : 1000,
};

const spec = (service: VariantService): RequestSpec => ({
  path: "/v1/images/generations",
  headers: { authorization: `Bearer ${service.apiKey}`, "content-type": "application/json" },
  body: JSON.stringify({ model: VARIANT_MODEL, prompt: "a lighthouse, topology benchmark", size: "64x64" }),
});

const compare = (services: [VariantService, VariantService], concurrency: number, requests: number) =>
  alternateRounds(services, spec, { concurrency, requests, rounds: plan.rounds, warmup: plan.warmup }) as Promise<[LoadResult, LoadResult]>;

async function call<T>(service: VariantService, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${service.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${service.apiKey}`, ...init.headers } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

type BatchView = { id: string; status: string; request_counts: { total: number; completed: number; failed: number } };

/** Lines per second from the batch's dispatch (in_progress) until every line has an outcome. */
async function batchLinesPerSecond(service: VariantService, lines: number): Promise<number> {
  const text = Array.from({ length: lines }, (_, index) =>
    JSON.stringify({ custom_id: `l${index}`, method: "POST", url: "/v1/images/generations", body: { model: VARIANT_MODEL, prompt: `topology ${index % 50}`, size: "64x64" } }),
  ).join("\n");
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new Blob([`${text}\n`]), "input.jsonl");
  const file = await call<{ id: string }>(service, "/v1/files", { method: "POST", body: form });
  const batch = await call<BatchView>(service, "/v1/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/images/generations", completion_window: "24h" }),
  });
  let startedAt: number | undefined;
  for (;;) {
    const view = await call<BatchView>(service, `/v1/batches/${batch.id}`);
    if (startedAt === undefined && view.status !== "validating") startedAt = performance.now();
    const { total, completed, failed } = view.request_counts;
    if (view.status === "failed") throw new Error(`batch failed: ${JSON.stringify(view)}`);
    if (startedAt !== undefined && total > 0 && completed + failed >= total) return completed / ((performance.now() - startedAt) / 1000);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const line = (label: string, load: LoadResult) => loadLine(label, load);

process.exitCode = await runVariantBench("topology-bench", async (workDir) => {
  const cluster = await startRedisCluster({ dataDir: join(workDir, "cluster"), logDir: join(workDir, "logs") });
  const { services } = await startVariantStacks({
    workDir,
    workerConcurrency: 128,
    logLevel: "warn",
    variants: [
      { name: "global", env: { GPU_SLOTS_SCOPE: "global" } },
      { name: "process", env: { GPU_SLOTS_SCOPE: "process" } },
      { name: "cluster", env: { REDIS_CLUSTER_NODES: cluster.nodes } },
    ],
  });
  const byName = (name: string) => services.find((service) => service.name === name)!;
  console.log(`redis topology: 64x64 url, ${plan.rounds} alternating rounds per comparison${flags.quick ? " (QUICK run)" : ""}\n`);

  const [globalLoad, processLoad] = await compare([byName("global"), byName("process")], 1, plan.latencyRequests);
  const addedMs = summarize(globalLoad.latenciesMs).p50Ms - summarize(processLoad.latenciesMs).p50Ms;
  console.log("global GPU slots, c=1, one redis-server:");
  console.log(line("GPU_SLOTS_SCOPE=global", globalLoad));
  console.log(line("GPU_SLOTS_SCOPE=process", processLoad));
  console.log(`  added p50 of global slots: ${addedMs.toFixed(3)} ms (target ≤ ${GLOBAL_SLOT_TARGET_MS} ms: ${addedMs <= GLOBAL_SLOT_TARGET_MS ? "met" : "MISSED"})\n`);

  const [singleLoad, clusterLoad] = await compare([byName("global"), byName("cluster")], 64, plan.throughputRequests);
  console.log("sync throughput, c=64:");
  console.log(line("one redis-server", singleLoad));
  console.log(line("3-master Redis Cluster", clusterLoad));
  console.log(`  cluster / single: ${(requestsPerSecond(clusterLoad) / requestsPerSecond(singleLoad)).toFixed(2)}x\n`);

  // Alternating, as above: single, cluster, cluster, single.
  const rates: Record<"single" | "cluster", number[]> = { single: [], cluster: [] };
  for (const order of [["single", "cluster"], ["cluster", "single"]] as const) {
    for (const name of order) rates[name].push(await batchLinesPerSecond(byName(name === "single" ? "global" : "cluster"), plan.batchLines));
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  console.log(`batch dispatch, ${plan.batchLines} lines to a zero-latency simulator (two batches each):`);
  console.log(`  one redis-server                         ${mean(rates.single).toFixed(0).padStart(6)} lines/s`);
  console.log(`  3-master Redis Cluster                   ${mean(rates.cluster).toFixed(0).padStart(6)} lines/s`);
  console.log(`  cluster / single: ${(mean(rates.cluster) / mean(rates.single)).toFixed(2)}x`);
  await cluster.stop();
  return [globalLoad, processLoad, singleLoad, clusterLoad].every((load) => failureCount(load) === 0);
});
