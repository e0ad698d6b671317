// Turns raw measurements into the figures we report and judge: percentiles,
// throughput, added latency, CPU per process, and the service's stage times.
import type { LevelMeasurement, Observed } from "./compare.ts";
import { failureCount } from "./load.ts";
import { meanMs } from "./metrics-scrape.ts";
import { summarize, type LatencySummary } from "./stats.ts";

/** Histograms the API and worker export; names as in apps/{api,worker}/src/metrics.ts. */
export const STAGE_HISTOGRAMS = {
  apiHandler: "imagegen_http_request_duration_seconds",
  queueWait: "imagegen_queue_wait_seconds",
  job: "imagegen_generation_duration_seconds",
  upstream: "imagegen_upstream_request_duration_seconds",
  storageWrite: "imagegen_storage_write_duration_seconds",
} as const;

export interface ServiceStagesMs {
  /** API: request in to response written (Express middleware included). */
  apiHandler: number;
  /** Job created by the API to taken by the worker. */
  queueWait: number;
  /** Worker: job start to images stored. */
  job: number;
  upstream: number;
  storageWrite: number;
  /** apiHandler − queueWait − job: enqueue, completion event, reading the result, signing, JSON. */
  apiAroundJob: number;
  /** Client latency − apiHandler: HTTP parsing/writing outside the handler, loopback, our client. */
  outsideHandler: number;
}

export interface PathFigures {
  latency: LatencySummary;
  requestsPerSecond: number;
  failures: number;
  failureReasons: Record<string, number>;
  meanResponseBytes: number;
  /** Percent of one core used by each process while this path was measured. */
  cpuPercent: Record<string, number>;
}

export interface LevelFigures {
  label: string;
  concurrency: number;
  direct: PathFigures;
  service: PathFigures & { stagesMs: ServiceStagesMs };
  addedP50Ms: number;
  addedP99Ms: number;
  ratioP50: number;
  ratioP99: number;
}

function pathFigures(observed: Observed): PathFigures {
  const { load } = observed;
  const elapsedSeconds = load.elapsedMs / 1000;
  const cpuPercent: Record<string, number> = {};
  for (const [role, seconds] of Object.entries(observed.cpuSeconds)) cpuPercent[role] = (seconds / elapsedSeconds) * 100;
  return {
    latency: summarize(load.latenciesMs),
    requestsPerSecond: load.latenciesMs.length / elapsedSeconds,
    failures: failureCount(load) + observed.warmupFailures,
    failureReasons: Object.fromEntries(load.failures),
    meanResponseBytes: load.latenciesMs.length === 0 ? 0 : load.responseBytes / load.latenciesMs.length,
    cpuPercent,
  };
}

function serviceStages(observed: Observed, clientMeanMs: number): ServiceStagesMs {
  const stage = (name: string) => meanMs(observed.histograms, name);
  const apiHandler = stage(STAGE_HISTOGRAMS.apiHandler);
  const queueWait = stage(STAGE_HISTOGRAMS.queueWait);
  const job = stage(STAGE_HISTOGRAMS.job);
  return {
    apiHandler,
    queueWait,
    job,
    upstream: stage(STAGE_HISTOGRAMS.upstream),
    storageWrite: stage(STAGE_HISTOGRAMS.storageWrite),
    apiAroundJob: apiHandler - queueWait - job,
    outsideHandler: clientMeanMs - apiHandler,
  };
}

export function levelFigures(measurement: LevelMeasurement): LevelFigures {
  const direct = pathFigures(measurement.direct);
  const servicePath = pathFigures(measurement.service);
  const service = { ...servicePath, stagesMs: serviceStages(measurement.service, servicePath.latency.meanMs) };
  return {
    label: measurement.label,
    concurrency: measurement.concurrency,
    direct,
    service,
    addedP50Ms: service.latency.p50Ms - direct.latency.p50Ms,
    addedP99Ms: service.latency.p99Ms - direct.latency.p99Ms,
    ratioP50: service.latency.p50Ms / direct.latency.p50Ms,
    ratioP99: service.latency.p99Ms / direct.latency.p99Ms,
  };
}

export interface TargetResult {
  name: string;
  target: string;
  valueText: string;
  pass: boolean;
}

/** The agreed targets; a missing level (e.g. --only) simply yields no result. */
export function evaluateTargets(levels: readonly LevelFigures[]): TargetResult[] {
  const results: TargetResult[] = [];
  const large = levels.find((level) => level.label.startsWith("large"));
  if (large) {
    results.push({
      name: "large 1024x1024 url, c=1: added p50",
      target: "≤ 2 ms",
      valueText: `${large.addedP50Ms.toFixed(2)} ms`,
      pass: large.addedP50Ms <= 2,
    });
  }
  const small64 = levels.find((level) => level.label.startsWith("small") && level.concurrency === 64);
  if (small64) {
    results.push({
      name: "small 64x64, c=64: service throughput",
      target: "≥ 1000 req/s",
      valueText: `${small64.service.requestsPerSecond.toFixed(0)} req/s`,
      pass: small64.service.requestsPerSecond >= 1000,
    });
    results.push({
      name: "small 64x64, c=64: service p99",
      target: "< 100 ms",
      valueText: `${small64.service.latency.p99Ms.toFixed(1)} ms`,
      pass: small64.service.latency.p99Ms < 100,
    });
  }
  return results;
}
