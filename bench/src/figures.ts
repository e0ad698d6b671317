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

/** A path's latency minus the direct call's, at the same percentile. */
export interface AddedLatency {
  p50Ms: number;
  p99Ms: number;
}

export interface LevelFigures {
  label: string;
  concurrency: number;
  direct: PathFigures;
  portkey: PathFigures;
  service: PathFigures & { stagesMs: ServiceStagesMs };
  portkeyAdded: AddedLatency;
  serviceAdded: AddedLatency;
  /** Service p50 / direct p50. */
  ratioP50: number;
  /** Service throughput / Portkey's. */
  throughputVsPortkey: number;
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

const added = (path: PathFigures, direct: PathFigures): AddedLatency => ({
  p50Ms: path.latency.p50Ms - direct.latency.p50Ms,
  p99Ms: path.latency.p99Ms - direct.latency.p99Ms,
});

export function levelFigures(measurement: LevelMeasurement): LevelFigures {
  const direct = pathFigures(measurement.paths.direct);
  const portkey = pathFigures(measurement.paths.portkey);
  const servicePath = pathFigures(measurement.paths.service);
  const service = { ...servicePath, stagesMs: serviceStages(measurement.paths.service, servicePath.latency.meanMs) };
  return {
    label: measurement.label,
    concurrency: measurement.concurrency,
    direct,
    portkey,
    service,
    portkeyAdded: added(portkey, direct),
    serviceAdded: added(service, direct),
    ratioP50: service.latency.p50Ms / direct.latency.p50Ms,
    throughputVsPortkey: service.requestsPerSecond / portkey.requestsPerSecond,
  };
}

/** Level labels, shared by the plan (sync-latency.ts) and the targets below. */
export const LEVEL_LABELS = {
  largeUrl: "large 1024x1024 url",
  smallUrl: "small 64x64 url",
  largeB64: "large 1024x1024 b64_json",
} as const;

export interface TargetResult {
  name: string;
  target: string;
  valueText: string;
  pass: boolean;
  /** The same figure when issue 16 set the target, for "nothing slower". */
  whenSet?: string;
}

const B64_THROUGHPUT_FACTOR = 1.5;
const LARGE_ADDED_P50_LIMIT_MS = 4;

/** The agreed targets (issue 16 and before); a level that did not run yields no result. */
export function evaluateTargets(levels: readonly LevelFigures[]): TargetResult[] {
  const find = (label: string, concurrency: number) => levels.find((level) => level.label === label && level.concurrency === concurrency);
  const results: TargetResult[] = [];
  const small1 = find(LEVEL_LABELS.smallUrl, 1);
  if (small1) {
    results.push({
      name: "small, c=1: service added p50 ≤ Portkey's",
      target: `≤ ${small1.portkeyAdded.p50Ms.toFixed(2)} ms`,
      valueText: `${small1.serviceAdded.p50Ms.toFixed(2)} ms`,
      pass: small1.serviceAdded.p50Ms <= small1.portkeyAdded.p50Ms,
      whenSet: "1.93 vs 0.86 ms",
    });
  }
  const small64 = find(LEVEL_LABELS.smallUrl, 64);
  if (small64) {
    results.push({
      name: "small, c=64: service req/s ≥ Portkey's",
      target: `≥ ${small64.portkey.requestsPerSecond.toFixed(0)} req/s`,
      valueText: `${small64.service.requestsPerSecond.toFixed(0)} req/s`,
      pass: small64.service.requestsPerSecond >= small64.portkey.requestsPerSecond,
      whenSet: "1,535–1,618 vs 1,221–1,633",
    });
    results.push({
      name: "small, c=64: service p99 < Portkey's",
      target: `< ${small64.portkey.latency.p99Ms.toFixed(1)} ms`,
      valueText: `${small64.service.latency.p99Ms.toFixed(1)} ms`,
      pass: small64.service.latency.p99Ms < small64.portkey.latency.p99Ms,
    });
    results.push({
      name: "small, c=64: service req/s (absolute)",
      target: "≥ 1000 req/s",
      valueText: `${small64.service.requestsPerSecond.toFixed(0)} req/s`,
      pass: small64.service.requestsPerSecond >= 1000,
    });
    results.push({
      name: "small, c=64: service p99 (absolute)",
      target: "< 100 ms",
      valueText: `${small64.service.latency.p99Ms.toFixed(1)} ms`,
      pass: small64.service.latency.p99Ms < 100,
    });
  }
  const large1 = find(LEVEL_LABELS.largeUrl, 1);
  if (large1) {
    results.push({
      name: "~1 MB url, c=1: service added p50",
      target: `≤ ${LARGE_ADDED_P50_LIMIT_MS} ms`,
      valueText: `${large1.serviceAdded.p50Ms.toFixed(2)} ms (Portkey ${large1.portkeyAdded.p50Ms.toFixed(2)})`,
      pass: large1.serviceAdded.p50Ms <= LARGE_ADDED_P50_LIMIT_MS,
      whenSet: "7.8 ms (Portkey 16.5)",
    });
  }
  const largeB64 = find(LEVEL_LABELS.largeB64, 64);
  if (largeB64) {
    const needed = largeB64.portkey.requestsPerSecond * B64_THROUGHPUT_FACTOR;
    results.push({
      name: `~1 MB b64_json, c=64: req/s ≥ ${B64_THROUGHPUT_FACTOR}× Portkey's`,
      target: `≥ ${needed.toFixed(0)} req/s`,
      valueText: `${largeB64.service.requestsPerSecond.toFixed(0)} req/s (${largeB64.throughputVsPortkey.toFixed(2)}× Portkey's ${largeB64.portkey.requestsPerSecond.toFixed(0)})`,
      pass: largeB64.service.requestsPerSecond >= needed,
      whenSet: "95 vs 55 req/s",
    });
  }
  return results;
}
