// Measurement windows of the fair-share benchmark: what the simulator and
// the worker counted between two moments, read from their own counters
// (`GET /_sim/stats`, the worker's /metrics), never from the load generator.
import { type FairShareStack, simulatorCounters, type SimulatorCounters } from "./fair-share-stack.ts";
import { scrapeSamples, sumByLabel, sumWhere, type MetricSample } from "./metrics-scrape.ts";

export interface Snapshot {
  atMs: number;
  sim: SimulatorCounters;
  worker: MetricSample[];
}

export async function snapshot(stack: FairShareStack): Promise<Snapshot> {
  const atMs = performance.now();
  const [sim, worker] = await Promise.all([simulatorCounters(stack), scrapeSamples(stack.workerMetricsUrl)]);
  return { atMs, sim, worker };
}

const WAIT = "imagegen_workspace_queue_wait_seconds";

/**
 * GPU time used over GPU time available between two snapshots: calls
 * answered × the simulated latency / (slots × elapsed). Calls in flight at
 * either end count for the window they end in; over a steady window those
 * at the start and at the end balance out (error at most slots × latency).
 */
export function utilization(from: Snapshot, to: Snapshot, gpu: { slots: number; latencyMs: number }): number {
  return ((to.sim.responses.ok - from.sim.responses.ok) * gpu.latencyMs) / (gpu.slots * (to.atMs - from.atMs));
}

/** Generate-image jobs the worker started per workspace between two snapshots (its wait histogram's count). */
export function startedBetween(from: Snapshot, to: Snapshot, workspace: string): number {
  const count = (at: Snapshot) => sumByLabel(at.worker, `${WAIT}_count`, "workspace").get(workspace) ?? 0;
  return count(to) - count(from);
}

/** Mean of a worker histogram's observations between two snapshots (label sets matching `labels`), in ms; NaN when none. */
export function histogramMeanMs(from: Snapshot, to: Snapshot, name: string, labels: Record<string, string>): number {
  const delta = (suffix: string) => sumWhere(to.worker, `${name}_${suffix}`, labels) - sumWhere(from.worker, `${name}_${suffix}`, labels);
  const count = delta("count");
  return count === 0 ? Number.NaN : (delta("sum") / count) * 1000;
}

/** Mean time a workspace's jobs of one kind waited (held in their lane, then queued) before the worker took them, in ms. */
export const meanWaitMs = (from: Snapshot, to: Snapshot, workspace: string, kind: "sync" | "async" | "batch"): number =>
  histogramMeanMs(from, to, WAIT, { workspace, kind });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Samples the simulator's busy slots every `intervalMs` until stopped;
 * `stop()` resolves to the mean. Tells idle slots apart from slots held
 * longer than the nominal latency (timer slack), which the call count cannot.
 */
export function sampleBusySlots(stack: FairShareStack, intervalMs: number): { stop(): Promise<number> } {
  let stopped = false;
  const samples: number[] = [];
  const loop = (async () => {
    while (!stopped) {
      samples.push((await simulatorCounters(stack)).inFlight);
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples.reduce((sum, value) => sum + value, 0) / samples.length;
    },
  };
}

/** Waits until the simulator has been idle (nothing in flight, no new call) for `quietMs`. */
export async function untilIdle(stack: FairShareStack, options: { quietMs: number; timeoutMs: number }): Promise<void> {
  const giveUpAt = performance.now() + options.timeoutMs;
  let last = await simulatorCounters(stack);
  let quietSince = performance.now();
  while (performance.now() < giveUpAt) {
    await sleep(50);
    const now = await simulatorCounters(stack);
    if (now.inFlight > 0 || now.requests !== last.requests) quietSince = performance.now();
    else if (performance.now() - quietSince >= options.quietMs) return;
    last = now;
  }
  throw new Error(`the GPU did not go idle within ${options.timeoutMs} ms`);
}
