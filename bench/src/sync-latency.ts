// `npm run bench`: the latency the service adds to a synchronous image
// generation, measured against calling the simulator directly, in one run on
// one machine. Prints a report; exits 0 on a missed target (a measurement, not
// a test) and 1 when any request failed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { measureLevel, type LevelPlan, type PathTarget } from "./compare.ts";
import { findRedisPid, rssMegabytes } from "./cpu-usage.ts";
import { evaluateTargets, levelFigures, STAGE_HISTOGRAMS, type LevelFigures } from "./figures.ts";
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
    // Writes V8 CPU profiles of the API and worker into this folder at shutdown.
    "cpu-prof": { type: "string" },
  },
});

const counts = flags.quick
  ? { c1Requests: 40, highRequests: 400, c1Warmup: 20, highWarmup: 100, rounds: 2 }
  : { c1Requests: 500, highRequests: 10_000, c1Warmup: 200, highWarmup: 1_000, rounds: 4 };

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

function plans(stack: Stack, pools: { simLarge: Pool; simSmall: Pool; api: Pool }): LevelPlan[] {
  const auth = { authorization: `Bearer ${stack.apiKey}` };
  const direct = (pool: Pool, size: string): PathTarget => ({
    pool,
    spec: jsonSpec("/v1/images/generations", {}, { model: "sim", prompt: PROMPT, size, response_format: "b64_json" }),
  });
  const service = (model: string, size: string): PathTarget => ({
    pool: pools.api,
    spec: jsonSpec("/v1/images/generations", auth, { model, prompt: PROMPT, size }),
  });
  const level = (label: string, concurrency: number, large: boolean): LevelPlan => ({
    label,
    concurrency,
    requestsPerPath: concurrency === 1 ? counts.c1Requests : counts.highRequests,
    warmupPerPath: concurrency === 1 ? counts.c1Warmup : counts.highWarmup,
    rounds: counts.rounds,
    direct: large ? direct(pools.simLarge, "1024x1024") : direct(pools.simSmall, "64x64"),
    service: large ? service(LARGE_MODEL, "1024x1024") : service(SMALL_MODEL, "64x64"),
  });
  return [
    level("large 1024x1024 url", 1, true),
    level("small 64x64 url", 1, false),
    level("small 64x64 url", 16, false),
    level("small 64x64 url", 64, false),
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
    const redisPid = await findRedisPid(stack.redisPort);
    const pids = redisPid === undefined ? stack.pids : { ...stack.pids, redis: redisPid };
    console.log(
      `services up: api ${stack.apiUrl}, worker concurrency ${flags["worker-concurrency"]}, LOG_LEVEL=${flags["log-level"]}, ` +
        `pids ${JSON.stringify(pids)}${flags.quick ? ", QUICK run" : ""}`,
    );

    const poolOptions = { connections: MAX_CONCURRENCY, pipelining: 1 };
    const simLarge = new Pool(stack.simLargeUrl, poolOptions);
    const simSmall = new Pool(stack.simSmallUrl, poolOptions);
    const api = new Pool(stack.apiUrl, poolOptions);
    pools.push(simLarge, simSmall, api);
    console.log(await checkLargeImagePaths({ simLarge, api, apiKey: stack.apiKey, prompt: PROMPT }));

    const sources = { pids, metricsUrls: [stack.apiMetricsUrl, stack.workerMetricsUrl], histogramNames: Object.values(STAGE_HISTOGRAMS) };
    const levels: LevelFigures[] = [];
    for (const plan of plans(stack, { simLarge, simSmall, api })) {
      const figures = levelFigures(await measureLevel(plan, sources));
      levels.push(figures);
      console.log(`\n${formatLevel(figures)}`);
    }
    const targets = evaluateTargets(levels);
    const failures = levels.reduce((sum, level) => sum + level.direct.failures + level.service.failures, 0);
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
