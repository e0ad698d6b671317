// `npm run bench -- fair-share [--quick] [--json out.json]`: does one
// workspace's flood become another workspace's queue? Two workspaces of equal
// weight, A and B, share one simulated GPU (16 slots × 40 ms, the model's
// upstream has exactly those slots). The scenario runs twice in one run, on a
// fresh stack each (private Redis, simulator, one worker, one API):
// FAIR_SHARE=on, then FAIR_SHARE=off (first come, first served per kind).
//   1. B alone: its sync calls (closed loop, c=2) and a 40-line batch;
//   2. A floods (64 sync callers and a 6,000-line batch): B's same calls and
//      batch again, and the GPU's utilization meanwhile;
//   3. A weight 3, B weight 1, both flooding with batches: jobs started per
//      workspace over a window, from the worker's counters.
// Then what fair sharing costs an unloaded sync call (c=1), on and off side by
// side in alternating rounds against a zero-latency simulator.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { alternateRounds, runVariantBench } from "./alternate.ts";
import { cancelBatch, createBatch, type ApiCaller, untilAllLinesDone, untilBatchStatus, uploadBatchInput, writeBatchInput } from "./batch-client.ts";
import { printFairShareReport, type UnloadedCost, type VariantFigures } from "./fair-share-report.ts";
import { createWorkspace, FAIR_MODEL, setWeight, startFairShareStack, stopFairShareStack, type FairShareStack } from "./fair-share-stack.ts";
import { histogramMeanMs, meanWaitMs, sampleBusySlots, snapshot, startedBetween, untilIdle, utilization } from "./fair-share-window.ts";
import { failureCount, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { startVariantStacks, stopVariantStacks, VARIANT_MODEL } from "./variant-stack.ts";

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false }, json: { type: "string" } } });

export const GPU = { slots: 16, latencyMs: 40 };
const WORKER_CONCURRENCY = 64;
const A = "bench-a";
const B = "bench-b";
const plan = {
  bSyncConcurrency: 2,
  bSyncCalls: flags.quick ? 40 : 150,
  bBatchLines: 40,
  /** B's batch alone is short and noisy on a shared machine: the median of this many runs. */
  bBatchAloneRuns: flags.quick ? 1 : 3,
  aSyncConcurrency: 64,
  aBatchLines: flags.quick ? 1500 : 6000,
  /** A's flood runs this long before B is measured, so B meets it at its full depth. */
  floodSettleMs: flags.quick ? 500 : 1500,
  /** Without fair sharing B's batch may wait for the whole flood; it is timed up to this long. */
  bBatchGiveUpMs: flags.quick ? 8_000 : 30_000,
  weightedLines: flags.quick ? 1000 : 3000,
  weightedWindowMs: flags.quick ? 1000 : 4000,
  directCalls: flags.quick ? 200 : 800,
  unloaded: { concurrency: 1, rounds: flags.quick ? 2 : 10, requests: flags.quick ? 100 : 300, warmup: flags.quick ? 50 : 200 },
};

const median = (values: readonly number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function syncSpec(caller: ApiCaller, model = FAIR_MODEL): RequestSpec {
  return {
    path: "/v1/images/generations",
    headers: { authorization: `Bearer ${caller.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: "a lighthouse, fair-share benchmark", size: "64x64" }),
  };
}

/** Uploads a batch input, then times it from its creation until every line has an outcome; undefined when it gave up. */
async function timeBatch(caller: ApiCaller, inputPath: string, giveUpAfterMs = Infinity): Promise<{ id: string; seconds: number | undefined }> {
  const fileId = await uploadBatchInput(caller, inputPath);
  const startedMs = performance.now();
  const batch = await createBatch(caller, fileId);
  const doneMs = await untilAllLinesDone(caller, batch.id, { intervalMs: 10, giveUpAtMs: startedMs + giveUpAfterMs });
  return { id: batch.id, seconds: doneMs === undefined ? undefined : (doneMs - startedMs) / 1000 };
}

/** Cancels a batch unless it has ended already (a refused cancel of an ended batch is fine here). */
async function cancelIfRunning(caller: ApiCaller, id: string): Promise<void> {
  await cancelBatch(caller, id).catch(() => undefined);
}

/** The simulator driven straight by `slots` closed-loop callers: the utilization its slots give without the service. */
async function directUtilization(stack: FairShareStack): Promise<number> {
  const pool = new Pool(stack.simUrl, { connections: GPU.slots });
  try {
    const spec = { path: "/v1/images/generations", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "sim", prompt: "direct", size: "64x64", response_format: "b64_json" }) };
    const load = await runClosedLoop(pool, spec, { concurrency: GPU.slots, requests: plan.directCalls });
    return (load.latenciesMs.length * GPU.latencyMs) / (GPU.slots * load.elapsedMs);
  } finally {
    await pool.close();
  }
}

async function runScenario(workDir: string, fairShare: "on" | "off"): Promise<VariantFigures> {
  const dir = join(workDir, fairShare);
  const stack = await startFairShareStack({ workDir: dir, fairShare, ...GPU, workerConcurrency: WORKER_CONCURRENCY });
  // On an error here the bench's own cleanup (runVariantBench) stops the stack.
  const [a, b] = [await createWorkspace(stack, A), await createWorkspace(stack, B)];
  const pools = { a: new Pool(stack.apiUrl, { connections: plan.aSyncConcurrency }), b: new Pool(stack.apiUrl, { connections: plan.bSyncConcurrency }) };
  const failures: LoadResult[] = [];
  const bSync = async () => {
    const load = await runClosedLoop(pools.b, syncSpec(b), { concurrency: plan.bSyncConcurrency, requests: plan.bSyncCalls });
    failures.push(load);
    return load;
  };
  try {
    const inputs = { b: join(dir, "b.jsonl"), a: join(dir, "a.jsonl"), aWeighted: join(dir, "a-weighted.jsonl"), bWeighted: join(dir, "b-weighted.jsonl") };
    await Promise.all([
      writeBatchInput(inputs.b, plan.bBatchLines, FAIR_MODEL, "b"),
      writeBatchInput(inputs.a, plan.aBatchLines, FAIR_MODEL, "a"),
      writeBatchInput(inputs.aWeighted, plan.weightedLines, FAIR_MODEL, "aw"),
      writeBatchInput(inputs.bWeighted, plan.weightedLines, FAIR_MODEL, "bw"),
    ]);
    const direct = fairShare === "on" ? await directUtilization(stack) : undefined;
    // Warm-up: connections, compiled code, the simulator's cached image.
    await runClosedLoop(pools.a, syncSpec(a), { concurrency: plan.aSyncConcurrency, requests: 256 });
    await runClosedLoop(pools.b, syncSpec(b), { concurrency: plan.bSyncConcurrency, requests: 20 });

    // 1. B alone.
    const alone0 = await snapshot(stack);
    const bSyncAlone = await bSync();
    const alone1 = await snapshot(stack);
    const bBatchAloneSeconds: number[] = [];
    for (let run = 0; run < plan.bBatchAloneRuns; run++) bBatchAloneSeconds.push((await timeBatch(b, inputs.b)).seconds ?? Number.NaN);
    const alone2 = await snapshot(stack);

    // 2. A floods; B again.
    const stopFlood = new AbortController();
    const aFlood = runClosedLoop(pools.a, syncSpec(a), { concurrency: plan.aSyncConcurrency, requests: Infinity, signal: stopFlood.signal });
    const aBatch = await createBatch(a, await uploadBatchInput(a, inputs.a));
    await untilBatchStatus(a, aBatch.id, ["in_progress"], 20);
    await sleep(plan.floodSettleMs);
    const busySlots = sampleBusySlots(stack, 20);
    const flood0 = await snapshot(stack);
    const bSyncFlood = await bSync();
    const flood1 = await snapshot(stack);
    const bBatchFlood = await timeBatch(b, inputs.b, plan.bBatchGiveUpMs);
    const flood2 = await snapshot(stack);
    const meanBusySlots = await busySlots.stop();
    stopFlood.abort();
    const aSyncFlood = await aFlood;
    failures.push(aSyncFlood);
    await Promise.all([cancelIfRunning(a, aBatch.id), bBatchFlood.seconds === undefined ? cancelIfRunning(b, bBatchFlood.id) : undefined]);
    await untilIdle(stack, { quietMs: 300, timeoutMs: 120_000 });

    // 3. Weights 3:1, both flooding with batches.
    await setWeight(stack, A, 3);
    const weighted0 = await snapshot(stack);
    const [aFileId, bFileId] = await Promise.all([uploadBatchInput(a, inputs.aWeighted), uploadBatchInput(b, inputs.bWeighted)]);
    const weightedBatches = await Promise.all([createBatch(a, aFileId), createBatch(b, bFileId)]);
    // Both under way (without fair sharing B's lines may never start while A's wait: then the window shows that).
    const bothStartedBy = performance.now() + 10_000;
    for (;;) {
      const now = await snapshot(stack);
      if ((startedBetween(weighted0, now, A) >= GPU.slots && startedBetween(weighted0, now, B) >= GPU.slots / 4) || now.atMs > bothStartedBy) break;
      await sleep(20);
    }
    await sleep(300);
    const weighted1 = await snapshot(stack);
    await sleep(plan.weightedWindowMs);
    const weighted2 = await snapshot(stack);
    await Promise.all([cancelIfRunning(a, weightedBatches[0].id), cancelIfRunning(b, weightedBatches[1].id)]);
    await untilIdle(stack, { quietMs: 300, timeoutMs: 120_000 });

    const started = { a: startedBetween(weighted1, weighted2, A), b: startedBetween(weighted1, weighted2, B) };
    return {
      fairShare,
      bSyncAloneP50Ms: summarize(bSyncAlone.latenciesMs).p50Ms,
      bSyncFloodP50Ms: summarize(bSyncFlood.latenciesMs).p50Ms,
      bSyncWaitMs: { alone: meanWaitMs(alone0, alone1, B, "sync"), flood: meanWaitMs(flood0, flood1, B, "sync") },
      bBatchAloneSeconds: median(bBatchAloneSeconds),
      bBatchFloodSeconds: bBatchFlood.seconds,
      bBatchGiveUpSeconds: plan.bBatchGiveUpMs / 1000,
      bBatchWaitMs: { alone: meanWaitMs(alone1, alone2, B, "batch"), flood: meanWaitMs(flood1, flood2, B, "batch") },
      bBatchFloodShare: startedBetween(flood1, flood2, B) / (startedBetween(flood1, flood2, A) + startedBetween(flood1, flood2, B)),
      aSyncFlood: { p50Ms: summarize(aSyncFlood.latenciesMs).p50Ms, requestsPerSecond: (aSyncFlood.latenciesMs.length / aSyncFlood.elapsedMs) * 1000 },
      floodUtilization: utilization(flood0, flood2, GPU),
      floodBusySlots: meanBusySlots,
      floodJobMs: {
        job: histogramMeanMs(flood0, flood2, "imagegen_job_duration_seconds", { queue: "generate-image" }),
        upstream: histogramMeanMs(flood0, flood2, "imagegen_upstream_request_duration_seconds", {}),
      },
      floodWindowSeconds: (flood2.atMs - flood0.atMs) / 1000,
      directUtilization: direct,
      weightedStarted: started,
      weightedRatio: started.a / started.b,
      weightedUtilization: utilization(weighted1, weighted2, GPU),
      maxInFlight: weighted2.sim.maxInFlight,
      rejectedBySimulator: weighted2.sim.responses.rejected,
      failedCalls: failures.reduce((sum, load) => sum + failureCount(load), 0),
    };
  } finally {
    await Promise.all([pools.a.close(), pools.b.close()]);
    await stopFairShareStack();
  }
}

/** FAIR_SHARE on vs off side by side (two API + worker pairs on one Redis), the same c=1 call in alternating rounds. */
async function unloadedCost(workDir: string): Promise<UnloadedCost> {
  const { services } = await startVariantStacks({
    workDir: join(workDir, "unloaded"),
    workerConcurrency: WORKER_CONCURRENCY,
    logLevel: "warn",
    variants: [
      { name: "on", env: { FAIR_SHARE: "on" } },
      { name: "off", env: { FAIR_SHARE: "off" } },
    ],
  });
  try {
    const [on, off] = await alternateRounds(services, (service) => syncSpec({ apiUrl: service.apiUrl, apiKey: service.apiKey }, VARIANT_MODEL), plan.unloaded);
    const [onP50, offP50] = [summarize(on!.latenciesMs).p50Ms, summarize(off!.latenciesMs).p50Ms];
    return { onP50Ms: onP50, offP50Ms: offP50, addedP50Ms: onP50 - offP50, calls: on!.latenciesMs.length, failedCalls: failureCount(on!) + failureCount(off!) };
  } finally {
    await stopVariantStacks();
  }
}

process.exitCode = await runVariantBench("fair-share", async (workDir) => {
  const startedMs = performance.now();
  const variants = [await runScenario(workDir, "on"), await runScenario(workDir, "off")] as const;
  const unloaded = await unloadedCost(workDir);
  const report = printFairShareReport({ quick: flags.quick, plan, gpu: GPU, variants, unloaded, elapsedSeconds: (performance.now() - startedMs) / 1000 });
  if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
  return variants.every((variant) => variant.failedCalls === 0) && unloaded.failedCalls === 0;
});
