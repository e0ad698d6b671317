// One comparison level: the same image requested straight from the simulator
// ("direct"), through the Portkey gateway (a proxy with no queue) and through
// the service, warmed up together and then measured in alternating rounds,
// so a noisy neighbour or a CPU frequency change hits every path alike
// instead of skewing one of them.
import type { Pool } from "undici";
import { roundOrder } from "./alternate.ts";
import { cpuDelta, cpuSnapshot, type CpuSeconds } from "./cpu-usage.ts";
import { emptyResult, failureCount, mergeInto, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { addHistogramTotals, histogramDelta, scrapeHistogramTotals, type HistogramTotals } from "./metrics-scrape.ts";

export const PATH_NAMES = ["direct", "portkey", "service"] as const;
export type PathName = (typeof PATH_NAMES)[number];

export interface PathTarget {
  pool: Pool;
  spec: RequestSpec;
}

export interface Observed {
  /** Measured rounds only (warm-up excluded). */
  load: LoadResult;
  warmupFailures: number;
  /** CPU seconds per process during this path's measured rounds. */
  cpuSeconds: CpuSeconds;
  /** The services' own timers during this path's measured rounds. */
  histograms: HistogramTotals;
}

export interface LevelPlan {
  label: string;
  concurrency: number;
  requestsPerPath: number;
  warmupPerPath: number;
  rounds: number;
  paths: Record<PathName, PathTarget>;
}

export interface ObservationSources {
  pids: Record<string, number>;
  metricsUrls: string[];
  histogramNames: readonly string[];
}

export interface LevelMeasurement {
  label: string;
  concurrency: number;
  paths: Record<PathName, Observed>;
}

function emptyObserved(): Observed {
  return { load: emptyResult(), warmupFailures: 0, cpuSeconds: {}, histograms: {} };
}

async function scrapeAll(sources: ObservationSources): Promise<HistogramTotals> {
  const totals: HistogramTotals = {};
  for (const url of sources.metricsUrls) addHistogramTotals(totals, await scrapeHistogramTotals(url, sources.histogramNames));
  return totals;
}

/** Runs one round and adds its load, CPU time and service timers to `into`. */
async function observedRound(into: Observed, target: PathTarget, concurrency: number, requests: number, sources: ObservationSources) {
  // Scrapes bracket the CPU window, so rendering /metrics is not billed to the services.
  const metricsBefore = await scrapeAll(sources);
  const cpuBefore = await cpuSnapshot(sources.pids);
  const load = await runClosedLoop(target.pool, target.spec, { concurrency, requests });
  const cpuAfter = await cpuSnapshot(sources.pids);
  const metricsAfter = await scrapeAll(sources);
  mergeInto(into.load, load);
  for (const [role, seconds] of Object.entries(cpuDelta(cpuBefore, cpuAfter))) {
    into.cpuSeconds[role] = (into.cpuSeconds[role] ?? 0) + seconds;
  }
  addHistogramTotals(into.histograms, histogramDelta(metricsBefore, metricsAfter));
}

export async function measureLevel(plan: LevelPlan, sources: ObservationSources): Promise<LevelMeasurement> {
  const observed: Record<PathName, Observed> = { direct: emptyObserved(), portkey: emptyObserved(), service: emptyObserved() };
  // Warm-up: JIT, connection pools, Redis scripts, the simulator's image cache.
  const warmupOptions = { concurrency: plan.concurrency, requests: plan.warmupPerPath };
  for (const name of PATH_NAMES) {
    const target = plan.paths[name];
    observed[name].warmupFailures += failureCount(await runClosedLoop(target.pool, target.spec, warmupOptions));
  }

  const perRound = Math.ceil(plan.requestsPerPath / plan.rounds);
  for (let round = 0; round < plan.rounds; round++) {
    const requests = Math.min(perRound, plan.requestsPerPath - round * perRound);
    if (requests <= 0) break;
    // Vary the order, so no path always follows another's tail.
    for (const name of roundOrder(PATH_NAMES, round)) {
      await observedRound(observed[name], plan.paths[name], plan.concurrency, requests, sources);
    }
  }
  return { label: plan.label, concurrency: plan.concurrency, paths: observed };
}
