// The fair-share benchmark's figures: each beside its target (judged on the
// FAIR_SHARE=on run) and the same figure with fairness off, from the same run.
import { cpus, loadavg } from "node:os";

export interface VariantFigures {
  fairShare: "on" | "off";
  bSyncAloneP50Ms: number;
  bSyncFloodP50Ms: number;
  /** Mean time B's sync jobs waited before the worker took them (worker histogram), alone and during A's flood. */
  bSyncWaitMs: { alone: number; flood: number };
  bBatchAloneSeconds: number;
  /** Undefined: not done when the bench gave up after `bBatchGiveUpSeconds`. */
  bBatchFloodSeconds: number | undefined;
  bBatchGiveUpSeconds: number;
  bBatchWaitMs: { alone: number; flood: number };
  /** B's share of the jobs the worker started while B's batch ran under the flood (equal weights: its due is half). */
  bBatchFloodShare: number;
  aSyncFlood: { p50Ms: number; requestsPerSecond: number };
  /** Calls answered × latency / (slots × window), from B's first call under the flood to B's batch done. */
  floodUtilization: number;
  /** Mean busy slots of the simulator over the same window, sampled. */
  floodBusySlots: number;
  floodWindowSeconds: number;
  /** Worker means over the same window: a generate-image job from take to finish, and its GPU call alone. */
  floodJobMs: { job: number; upstream: number };
  /** The simulator driven directly by one caller per slot (measured once, in the first stack). */
  directUtilization: number | undefined;
  weightedStarted: { a: number; b: number };
  weightedRatio: number;
  weightedUtilization: number;
  maxInFlight: number;
  rejectedBySimulator: number;
  failedCalls: number;
}

export interface UnloadedCost {
  onP50Ms: number;
  offP50Ms: number;
  addedP50Ms: number;
  calls: number;
  failedCalls: number;
}

interface Target {
  name: string;
  target: string;
  measured: number;
  withFairnessOff: number;
  pass: boolean;
}

const ms = (value: number) => (Number.isNaN(value) ? "none started" : `${value.toFixed(1)} ms`);
const percent = (fraction: number) => `${(100 * fraction).toFixed(1)} %`;
const times = (ratio: number) => (Number.isNaN(ratio) ? "n/a" : Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "∞");

function bBatchFlood(figures: VariantFigures): { ratio: number; text: string } {
  if (figures.bBatchFloodSeconds === undefined) {
    const ratio = figures.bBatchGiveUpSeconds / figures.bBatchAloneSeconds;
    return { ratio, text: `> ${figures.bBatchGiveUpSeconds} s (unfinished) = > ${times(ratio)}` };
  }
  const ratio = figures.bBatchFloodSeconds / figures.bBatchAloneSeconds;
  return { ratio, text: `${figures.bBatchFloodSeconds.toFixed(2)} s = ${times(ratio)} alone` };
}

export function printFairShareReport(input: {
  quick: boolean;
  plan: { bSyncConcurrency: number; bSyncCalls: number; bBatchLines: number; bBatchAloneRuns: number; aSyncConcurrency: number; aBatchLines: number; weightedWindowMs: number };
  gpu: { slots: number; latencyMs: number };
  variants: readonly [VariantFigures, VariantFigures];
  unloaded: UnloadedCost;
  elapsedSeconds: number;
}) {
  const { plan, gpu, unloaded } = input;
  const [on, off] = input.variants;
  const targets: Target[] = [];
  const rows: string[] = [];
  const row = (label: string, values: [string, string], target?: { text: string; pass: boolean }) =>
    rows.push(`${target === undefined ? "      " : target.pass ? "[PASS]" : "[MISS]"} ${label.padEnd(62)} ${values[0].padEnd(30)} ${values[1].padEnd(30)} ${target?.text ?? ""}`);
  const judged = (name: string, text: string, measured: number, withFairnessOff: number, pass: boolean) => {
    targets.push({ name, target: text, measured, withFairnessOff, pass });
    return { text, pass };
  };
  const both = (format: (figures: VariantFigures) => string): [string, string] => [format(on), format(off)];

  rows.push(`${"".padEnd(69)} ${"fairness on".padEnd(30)} ${"fairness off".padEnd(30)} target`);
  row(`B sync p50 alone (c=${plan.bSyncConcurrency}, ${plan.bSyncCalls} calls)`, both((f) => ms(f.bSyncAloneP50Ms)));
  const syncRatio = (f: VariantFigures) => f.bSyncFloodP50Ms / f.bSyncAloneP50Ms;
  row("B sync p50 while A floods", both((f) => `${ms(f.bSyncFloodP50Ms)} = ${times(syncRatio(f))} alone`), judged("B sync p50 while A floods / alone", "≤ 1.5× alone", syncRatio(on), syncRatio(off), syncRatio(on) <= 1.5));
  row("  B sync mean wait before the worker took it: alone → flood", both((f) => `${ms(f.bSyncWaitMs.alone)} → ${ms(f.bSyncWaitMs.flood)}`));
  row(`B ${plan.bBatchLines}-line batch alone (create → all lines done${plan.bBatchAloneRuns > 1 ? `, median of ${plan.bBatchAloneRuns}` : ""})`, both((f) => `${f.bBatchAloneSeconds.toFixed(2)} s`));
  const batchOn = bBatchFlood(on);
  const batchOff = bBatchFlood(off);
  row(`B ${plan.bBatchLines}-line batch while A floods`, [batchOn.text, batchOff.text], judged("B batch while A floods / alone", "≤ 2× alone", batchOn.ratio, batchOff.ratio, on.bBatchFloodSeconds !== undefined && batchOn.ratio <= 2));
  // Fair sharing may slow the batch alone too, which flatters its own ratio: the plain-FIFO figure alone is the other yardstick.
  row("  B batch while A floods / B batch alone with fairness off", [times(on.bBatchFloodSeconds === undefined ? Number.NaN : on.bBatchFloodSeconds / off.bBatchAloneSeconds), ""]);
  row("  B batch lines mean wait: alone → flood", both((f) => `${ms(f.bBatchWaitMs.alone)} → ${ms(f.bBatchWaitMs.flood)}`));
  row("  B's share of jobs started while its batch ran under the flood", both((f) => percent(f.bBatchFloodShare)));
  row(`  A's ${plan.aSyncConcurrency} sync callers meanwhile: p50, calls/s`, both((f) => `${ms(f.aSyncFlood.p50Ms)}, ${f.aSyncFlood.requestsPerSecond.toFixed(0)}/s`));
  row(
    `GPU utilization while both are busy (${on.floodWindowSeconds.toFixed(1)} / ${off.floodWindowSeconds.toFixed(1)} s)`,
    both((f) => percent(f.floodUtilization)),
    judged("GPU utilization while both are busy", "≥ 97 %", on.floodUtilization, off.floodUtilization, on.floodUtilization >= 0.97),
  );
  row(`  slots busy (sampled every 20 ms), of ${gpu.slots}`, both((f) => `${f.floodBusySlots.toFixed(2)} = ${percent(f.floodBusySlots / gpu.slots)}`));
  // A job keeps its place among the released (slots + 1 per worker) after its GPU call, while it stores and records.
  row("  worker means: a job from take to finish / its GPU call", both((f) => `${ms(f.floodJobMs.job)} / ${ms(f.floodJobMs.upstream)}`));
  if (on.directUtilization !== undefined) row(`  the simulator driven directly by ${gpu.slots} callers`, [percent(on.directUtilization), ""]);
  const ratioError = (ratio: number) => Math.abs(ratio / 3 - 1);
  row(
    `jobs started A:B, weights 3:1, both flooding (${(plan.weightedWindowMs / 1000).toFixed(0)} s)`,
    both((f) => `${f.weightedRatio.toFixed(2)}:1 (${f.weightedStarted.a} / ${f.weightedStarted.b})`),
    judged("jobs started A:B with weights 3:1", "3:1 ± 10 %", on.weightedRatio, off.weightedRatio, ratioError(on.weightedRatio) <= 0.1),
  );
  row("  GPU utilization in that window", both((f) => percent(f.weightedUtilization)));
  row(`  simulator: most calls at once / refused (no free slot)`, both((f) => `${f.maxInFlight} / ${f.rejectedBySimulator}`));
  row("failed calls (non-2xx or transport errors)", both((f) => String(f.failedCalls)));
  const unloadedTarget = judged("added p50 of an unloaded sync call (c=1), on − off", "≤ 0.1 ms", unloaded.addedP50Ms, 0, unloaded.addedP50Ms <= 0.1);
  row(`added p50 of an unloaded sync call (c=1, ${unloaded.calls} per side)`, [`${unloaded.addedP50Ms.toFixed(3)} ms`, `on ${unloaded.onP50Ms.toFixed(3)} / off ${unloaded.offP50Ms.toFixed(3)} ms`], unloadedTarget);

  const load = loadavg()[0]!;
  console.log(
    `fair share: workspaces A and B of equal weight, one GPU of ${gpu.slots} slots × ${gpu.latencyMs} ms, one worker, one API${input.quick ? " (QUICK run)" : ""}\n` +
      `A floods with ${plan.aSyncConcurrency} sync callers and a ${plan.aBatchLines}-line batch; ` +
      `${cpus().length} cores, load average ${load.toFixed(1)} at the end, ${input.elapsedSeconds.toFixed(0)} s\n`,
  );
  console.log(rows.join("\n"));
  return { quick: input.quick, plan, gpu, machine: { cores: cpus().length, loadAverage: load }, targets, variants: { on, off }, unloaded };
}
