// `node bench/src/instrumentation-overhead.ts [--quick] [--rounds N] [--requests N] [--scrape-interval-ms N]`:
// what Prometheus instrumentation costs in throughput. Two copies of the
// service (API + worker each) run side by side on one Redis and one
// zero-latency simulator: "on" with metrics as shipped, and scraped like
// Prometheus would (API and worker /metrics, every --scrape-interval-ms,
// default 15 s as in infra/prometheus; 1000 shows the cost of scraping itself), and "off"
// with METRICS_ENABLED=false (no /metrics, every metric update a no-op).
// The same synchronous request (64x64 PNG, url response, one prompt so the
// simulator serves its cached image) is sent at concurrency 64 in
// alternating rounds (on, off, off, on, ...) after a warm-up of both, so
// machine noise hits both alike. Prints requests/s of each and the difference,
// the median of the per-round differences (a burst of outside load lands in
// one round, not in the total), and the CPU time the service's own processes
// (API + worker, from /proc) spent per request on each side: what metrics
// cost, even when the shared machine's load decides the throughput.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { cpuDelta, cpuSnapshot } from "./cpu-usage.ts";
import { emptyResult, failureCount, mergeInto, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { startVariantStacks, stopVariantStacks, VARIANT_MODEL, type Variant, type VariantService } from "./variant-stack.ts";

const TARGET_DIFFERENCE_PERCENT = 2;
const CONCURRENCY = 64;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    requests: { type: "string" },
    "scrape-interval-ms": { type: "string", default: "15000" },
    /** A/A check: both sides with metrics on, to see the machine's own noise. */
    "a-a": { type: "boolean", default: false },
    /** Start the "off" pair first, to see whether start order biases the figures. */
    "off-first": { type: "boolean", default: false },
  },
});
const plan = {
  rounds: Number(flags.rounds ?? (flags.quick ? 2 : 12)),
  requestsPerRound: Number(flags.requests ?? (flags.quick ? 1000 : 1500)),
  warmup: flags.quick ? 500 : 2000,
  scrapeIntervalMs: Number(flags["scrape-interval-ms"]),
};

function specFor(service: VariantService): RequestSpec {
  return {
    path: "/v1/images/generations",
    headers: { authorization: `Bearer ${service.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: VARIANT_MODEL, prompt: "a lighthouse, instrumentation benchmark", size: "64x64" }),
  };
}

/**
 * Scrapes the "on" service's two endpoints every `intervalMs` of its load
 * time, as Prometheus would. The schedule carries over between rounds, so
 * short rounds are not each charged a scrape of their own.
 */
function createScraper(service: VariantService, intervalMs: number) {
  let sinceLastMs = 0;
  let scrapes = 0;
  const scrapeOnce = async () => {
    await Promise.all([service.apiMetricsUrl, service.workerMetricsUrl].map(async (url) => (await fetch(url)).text()));
    scrapes++;
  };
  return {
    get scrapes() {
      return scrapes;
    },
    async during<T>(work: () => Promise<T>): Promise<T> {
      const startedMs = performance.now();
      let lastMs = startedMs - sinceLastMs;
      let timer: NodeJS.Timeout | undefined;
      let pending: Promise<void> = Promise.resolve();
      const schedule = (delayMs: number) => {
        timer = setTimeout(() => {
          lastMs = performance.now();
          pending = scrapeOnce();
          schedule(intervalMs);
        }, Math.max(0, delayMs));
      };
      schedule(intervalMs - sinceLastMs);
      try {
        return await work();
      } finally {
        clearTimeout(timer);
        await pending;
        sinceLastMs = performance.now() - lastMs;
      }
    },
  };
}

const requestsPerSecond = (load: LoadResult) => (load.latenciesMs.length / load.elapsedMs) * 1000;
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-instrumentation-bench-"));
  const pools: Pool[] = [];
  let failed = false;
  try {
    const { services } = await startVariantStacks({
      workDir,
      workerConcurrency: 128,
      logLevel: "warn",
      variants: ((variants: Variant[]) => (flags["off-first"] ? variants.reverse() : variants))([
        { name: "on", env: {} },
        { name: "off", env: flags["a-a"] ? {} : { METRICS_ENABLED: "false" } },
      ]),
    });
    const on = services.find((service) => service.name === "on")!;
    const off = services.find((service) => service.name === "off")!;
    if (!flags["a-a"] && (await fetch(off.apiMetricsUrl)).status !== 404) throw new Error("the 'off' API still serves /metrics");
    const targets = [on, off].map((service) => {
      const pool = new Pool(service.apiUrl, { connections: CONCURRENCY, pipelining: 1 });
      pools.push(pool);
      return {
        service,
        pool,
        spec: specFor(service),
        load: emptyResult(),
        scraper: service.name === "on" ? createScraper(service, plan.scrapeIntervalMs) : undefined,
        /** Requests/s of each round, for the per-round differences. */
        roundRps: [] as number[],
        /** CPU seconds of this side's API and worker over the timed rounds. */
        cpuSeconds: 0,
      };
    });

    for (const target of targets) {
      const warm = await runClosedLoop(target.pool, target.spec, { concurrency: CONCURRENCY, requests: plan.warmup });
      if (failureCount(warm) > 0) throw new Error(`warm-up of '${target.service.name}' failed: ${[...warm.failures.keys()].join("; ")}`);
    }
    for (let round = 0; round < plan.rounds; round++) {
      // on, off, off, on, on, off, ...: each side goes first half of the time.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const run = () => runClosedLoop(target.pool, target.spec, { concurrency: CONCURRENCY, requests: plan.requestsPerRound });
        const cpuBefore = await cpuSnapshot(target.service.pids);
        const load = target.scraper ? await target.scraper.during(run) : await run();
        const cpu = cpuDelta(cpuBefore, await cpuSnapshot(target.service.pids));
        target.cpuSeconds += (cpu.api ?? 0) + (cpu.worker ?? 0);
        target.roundRps.push(requestsPerSecond(load));
        mergeInto(target.load, load);
      }
    }

    const [onTarget, offTarget] = targets as [(typeof targets)[0], (typeof targets)[0]];
    const onRps = requestsPerSecond(onTarget.load);
    const offRps = requestsPerSecond(offTarget.load);
    const differencePercent = ((offRps - onRps) / offRps) * 100;
    console.log(
      `instrumentation overhead: POST /v1/images/generations 64x64 url, concurrency ${CONCURRENCY}, ` +
        `${plan.rounds} alternating rounds x ${plan.requestsPerRound} requests per side${flags.quick ? " (QUICK run)" : ""}\n`,
    );
    for (const target of targets) {
      const summary = summarize(target.load.latenciesMs);
      const label =
        target.service.name === "on"
          ? `metrics on (scraped every ${plan.scrapeIntervalMs} ms, ${target.scraper?.scrapes ?? 0} scrapes)`
          : flags["a-a"] ? "metrics on, not scraped (A/A check)" : "metrics off (METRICS_ENABLED=false)";
      console.log(
        `  ${label.padEnd(48)} ${requestsPerSecond(target.load).toFixed(0).padStart(6)} req/s   p50 ${summary.p50Ms.toFixed(2)} ms   p99 ${summary.p99Ms.toFixed(2)} ms   failures ${failureCount(target.load)}`,
      );
      if (failureCount(target.load) > 0) failed = true;
    }
    const roundDifferences = onTarget.roundRps.map((on, round) => ((offTarget.roundRps[round]! - on) / offTarget.roundRps[round]!) * 100);
    const cpuMsPerRequest = (target: (typeof targets)[0]) => (target.cpuSeconds * 1000) / target.load.latenciesMs.length;
    const cpuDifferencePercent = ((cpuMsPerRequest(onTarget) - cpuMsPerRequest(offTarget)) / cpuMsPerRequest(offTarget)) * 100;
    console.log(`\n  median of the ${plan.rounds} per-round differences: ${median(roundDifferences).toFixed(2)} % (rounds ${Math.min(...roundDifferences).toFixed(1)} to ${Math.max(...roundDifferences).toFixed(1)} %)`);
    console.log(
      `  CPU per request, API + worker: on ${cpuMsPerRequest(onTarget).toFixed(3)} ms, off ${cpuMsPerRequest(offTarget).toFixed(3)} ms, ` +
        `difference ${cpuDifferencePercent.toFixed(2)} %`,
    );
    console.log(
      `\nthroughput cost of metrics: ${differencePercent.toFixed(2)} % ` +
        `(target ≤ ${TARGET_DIFFERENCE_PERCENT} %: ${differencePercent <= TARGET_DIFFERENCE_PERCENT ? "met" : "MISSED"})`,
    );
    return failed ? 1 : 0;
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs in ${workDir}/logs)`);
    failed = true;
    return 1;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await stopVariantStacks().catch((error: unknown) => console.error(String(error)));
    if (!failed) await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
