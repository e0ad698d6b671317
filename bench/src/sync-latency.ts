// `npm run bench`: the latency the service adds to a synchronous image
// generation, measured against calling the simulator directly and against the
// Portkey gateway (a pass-through proxy) in front of the same simulator, in
// one run on one machine. Prints a report; exits 0 on a missed target (a measurement, not
// a test) and 1 when any request failed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { measureLevel, type LevelPlan, type PathTarget } from "./compare.ts";
import { findRedisPid, rssMegabytes } from "./cpu-usage.ts";
import { evaluateTargets, LEVEL_LABELS, levelFigures, STAGE_HISTOGRAMS, type LevelFigures } from "./figures.ts";
import { portkeyHeaders, startPortkeyGateway } from "./portkey.ts";
import { formatLevel, formatSummary, formatTargets } from "./report.ts";
import { checkLargeImagePaths } from "./sanity.ts";
import { LARGE_MODEL, SMALL_MODEL, startStack, stopStack, type Stack } from "./stack.ts";

// One prompt for every request: the simulator then serves its cached PNG on
// both paths, so its cost is identical and what differs is our overhead.
const PROMPT = "a lighthouse on a cliff at dusk, benchmark";
const MAX_CONCURRENCY = 64;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    "log-level": { type: "string", default: "warn" },
    "worker-concurrency": { type: "string", default: "128" },
    // Writes V8 CPU profiles of the API, worker and Portkey gateway into this folder at shutdown.
    "cpu-prof": { type: "string" },
    // Runs only the levels whose label contains this text (e.g. "small", "b64_json"), e.g. to profile one.
    only: { type: "string" },
  },
});

// Requests per path and level. The 1 MB b64_json level at c=64 gets fewer:
// the gateway serves it at ~50 req/s on two cores.
const counts = flags.quick
  ? { c1Requests: 40, highRequests: 400, largeHighRequests: 128, c1Warmup: 20, highWarmup: 100, largeHighWarmup: 64, rounds: 2 }
  : { c1Requests: 500, highRequests: 10_000, largeHighRequests: 1_500, c1Warmup: 200, highWarmup: 1_000, largeHighWarmup: 200, rounds: 6 };

function jsonSpec(path: string, headers: Record<string, string>, body: object) {
  return { path, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

function machineFacts() {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 1e9),
    node: process.version,
    kernel: release(),
    loadAverage1m: loadavg()[0] ?? 0,
  };
}

interface Pools {
  simLarge: Pool;
  simSmall: Pool;
  portkey: Pool;
  api: Pool;
}

function plans(stack: Stack, pools: Pools): LevelPlan[] {
  const auth = { authorization: `Bearer ${stack.apiKey}` };
  const simulatorBody = (size: string) => ({ model: "sim", prompt: PROMPT, size, response_format: "b64_json" });
  const direct = (pool: Pool, size: string): PathTarget => ({ pool, spec: jsonSpec("/v1/images/generations", {}, simulatorBody(size)) });
  // The gateway cannot store images, so it always carries the b64_json reply.
  const portkey = (upstreamUrl: string, size: string): PathTarget => ({
    pool: pools.portkey,
    spec: jsonSpec("/v1/images/generations", portkeyHeaders(upstreamUrl), simulatorBody(size)),
  });
  const service = (model: string, size: string, responseFormat: "url" | "b64_json"): PathTarget => ({
    pool: pools.api,
    spec: jsonSpec("/v1/images/generations", auth, { model, prompt: PROMPT, size, response_format: responseFormat }),
  });
  const large = { direct: direct(pools.simLarge, "1024x1024"), portkey: portkey(stack.simLargeUrl, "1024x1024") };
  const small = { direct: direct(pools.simSmall, "64x64"), portkey: portkey(stack.simSmallUrl, "64x64") };
  const rounds = counts.rounds;
  const c1 = { concurrency: 1, requestsPerPath: counts.c1Requests, warmupPerPath: counts.c1Warmup, rounds };
  const high = (concurrency: number) => ({ concurrency, requestsPerPath: counts.highRequests, warmupPerPath: counts.highWarmup, rounds });
  const smallUrl = { ...small, service: service(SMALL_MODEL, "64x64", "url") };
  return [
    { label: LEVEL_LABELS.largeUrl, ...c1, paths: { ...large, service: service(LARGE_MODEL, "1024x1024", "url") } },
    { label: LEVEL_LABELS.smallUrl, ...c1, paths: smallUrl },
    { label: LEVEL_LABELS.smallUrl, ...high(16), paths: smallUrl },
    { label: LEVEL_LABELS.smallUrl, ...high(64), paths: smallUrl },
    {
      label: LEVEL_LABELS.largeB64,
      concurrency: 64,
      requestsPerPath: counts.largeHighRequests,
      warmupPerPath: counts.largeHighWarmup,
      rounds,
      paths: { ...large, service: service(LARGE_MODEL, "1024x1024", "b64_json") },
    },
  ];
}

async function main(): Promise<number> {
  const machine = machineFacts();
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, node ${machine.node}, ` +
      `linux ${machine.kernel}, load average ${machine.loadAverage1m.toFixed(2)}`,
  );
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-bench-"));
  let keepWorkDir = false;
  const pools: Pool[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the services (logs in ${workDir}/logs)`);
    void stopStack().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const stack = await startStack({
      workDir,
      workerConcurrency: Number(flags["worker-concurrency"]),
      logLevel: flags["log-level"] ?? "warn",
      cpuProfileDir: flags["cpu-prof"],
    });
    const gateway = await startPortkeyGateway({ logDir: stack.logDir, cpuProfileDir: flags["cpu-prof"] });
    const redisPid = await findRedisPid(stack.redisPort);
    const pids = { ...stack.pids, portkey: gateway.pid, ...(redisPid === undefined ? {} : { redis: redisPid }) };
    console.log(
      `services up: api ${stack.apiUrl}, Portkey gateway ${gateway.url}, worker concurrency ${flags["worker-concurrency"]}, LOG_LEVEL=${flags["log-level"]}, ` +
        `pids ${JSON.stringify(pids)}${flags.quick ? ", QUICK run" : ""}`,
    );

    const poolOptions = { connections: MAX_CONCURRENCY, pipelining: 1 };
    const simLarge = new Pool(stack.simLargeUrl, poolOptions);
    const simSmall = new Pool(stack.simSmallUrl, poolOptions);
    const portkey = new Pool(gateway.url, poolOptions);
    const api = new Pool(stack.apiUrl, poolOptions);
    pools.push(simLarge, simSmall, portkey, api);
    console.log(
      await checkLargeImagePaths({ simLarge, portkey, portkeyHeaders: portkeyHeaders(stack.simLargeUrl), api, apiKey: stack.apiKey, prompt: PROMPT }),
    );

    const sources = { pids, metricsUrls: [stack.apiMetricsUrl, stack.workerMetricsUrl], histogramNames: Object.values(STAGE_HISTOGRAMS) };
    const levels: LevelFigures[] = [];
    const selected = plans(stack, { simLarge, simSmall, portkey, api }).filter((plan) => plan.label.includes(flags.only ?? ""));
    if (selected.length === 0) throw new Error(`no level matches --only ${flags.only ?? ""}`);
    for (const plan of selected) {
      const figures = levelFigures(await measureLevel(plan, sources));
      levels.push(figures);
      console.log(`\n${formatLevel(figures)}`);
    }
    const targets = evaluateTargets(levels);
    const failures = levels.reduce((sum, level) => sum + level.direct.failures + level.portkey.failures + level.service.failures, 0);
    const rss = await rssMegabytes(pids);
    console.log(`\n${formatSummary(levels)}\n\n${formatTargets(targets)}`);
    console.log(`\nresident memory at the end (MB): ${Object.entries(rss).map(([role, mb]) => `${role} ${mb.toFixed(0)}`).join(", ")}`);
    console.log(`failed requests: ${failures}`);

    if (flags.json !== undefined) {
      const report = { machine, options: { ...flags, ...counts }, levels, targets, failures, rssMegabytes: rss };
      await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`figures written to ${flags.json}`);
    }
    if (failures > 0) {
      keepWorkDir = true;
      console.error(`requests failed; service logs kept in ${stack.logDir}`);
      return 1;
    }
    return 0;
  } catch (error) {
    keepWorkDir = true;
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs in ${workDir}/logs)`);
    return 1;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await stopStack().catch((error: unknown) => console.error(String(error)));
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
