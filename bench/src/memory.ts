// `npm run bench -- memory [--quick] [--json FILE]`: peak resident memory
// (VmHWM, so no spike between samples is missed) of
//   1. the API while 64 callers each ask for n=4 1024x1024 b64_json images
//      (~1 MB PNGs, 5.6 MB of JSON per reply) at the same time, target 600 MB;
//   2. the worker while 100,000 batch lines drain, target 300 MB: two
//      50,000-line batches submitted together, as a batch holds at most 50,000;
//      on one worker process, then on two (what compose and k8s run at least).
// Each part on its own stack, so one part's peak cannot hide in the other's.
// Exit code 0 on a missed target (a measurement), 1 when requests failed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { FINAL_BATCH_STATUSES, MAX_BATCH_LINES, submitBatch, untilBatchStatus, writeBatchInput } from "./batch-client.ts";
import { startBatchStack, stopBatchStack, ZERO_MODEL } from "./batch-stack.ts";
import { largestPeakRssMegabytes, peakRssMegabytes } from "./cpu-usage.ts";
import { failureCount, runClosedLoop } from "./load.ts";
import { LARGE_MODEL, startStack, stopStack } from "./stack.ts";
import { summarize } from "./stats.ts";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    lines: { type: "string" },
  },
});

const CONCURRENCY = 64;
const IMAGES_PER_REQUEST = 4;
const API_LIMIT_MB = 600;
const WORKER_LIMIT_MB = 300;
// Full run: four waves of 64, so the peak is not one lucky moment; quick: one wave.
const syncRequests = flags.quick ? CONCURRENCY : CONCURRENCY * 4;
const batchLines = Number(flags.lines) || (flags.quick ? 10_000 : 100_000);

interface PeakFigures {
  apiBeforeMb: number;
  apiPeakMb: number;
  workerBeforeMb: number;
  workerPeakMb: number;
}

/** Peak RSS of the API and of the largest worker. */
async function peaks(pids: { api: number; worker: number; workers?: number[] }): Promise<{ api: number; worker: number }> {
  return { api: await peakRssMegabytes(pids.api), worker: await largestPeakRssMegabytes(pids.workers ?? [pids.worker]) };
}

async function largeB64Requests(workDir: string) {
  const stack = await startStack({ workDir, workerConcurrency: 128, logLevel: "warn" });
  const pool = new Pool(stack.apiUrl, { connections: CONCURRENCY, pipelining: 1 });
  try {
    const spec = {
      path: "/v1/images/generations",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify({ model: LARGE_MODEL, prompt: "memory benchmark", size: "1024x1024", n: IMAGES_PER_REQUEST, response_format: "b64_json" }),
    };
    // One request first, so the simulator has encoded and cached the four PNGs.
    const warm = await runClosedLoop(pool, spec, { concurrency: 1, requests: 1 });
    const before = await peaks(stack.pids);
    const load = await runClosedLoop(pool, spec, { concurrency: CONCURRENCY, requests: syncRequests });
    const after = await peaks(stack.pids);
    const figures: PeakFigures = { apiBeforeMb: before.api, apiPeakMb: after.api, workerBeforeMb: before.worker, workerPeakMb: after.worker };
    return {
      figures,
      requests: load.latenciesMs.length,
      failures: failureCount(warm) + failureCount(load),
      failureReasons: Object.fromEntries(load.failures),
      meanReplyMb: load.responseBytes / Math.max(1, load.latenciesMs.length) / 1e6,
      latency: summarize(load.latenciesMs),
    };
  } finally {
    await pool.close();
    await stopStack();
  }
}

/** `total` lines as few batches as the per-batch limit allows, sizes as even as possible. */
function batchSizes(total: number): number[] {
  const count = Math.ceil(total / MAX_BATCH_LINES);
  return Array.from({ length: count }, (_, index) => Math.floor(total / count) + (index < total % count ? 1 : 0));
}

async function largeBatch(workDir: string, workers: number) {
  const stack = await startBatchStack({ workDir, slots: 4, slotLatencyMs: 200, workers });
  try {
    const inputs = batchSizes(batchLines).map((lines, index) => ({ lines, path: join(workDir, `batch-${index}.jsonl`), tag: `memory${index}` }));
    for (const input of inputs) await writeBatchInput(input.path, input.lines, ZERO_MODEL, input.tag);
    const before = await peaks(stack.pids);
    const started = performance.now();
    const submitted = [];
    for (const input of inputs) submitted.push((await submitBatch(stack, input.path)).batch);
    const done = await Promise.all(submitted.map((batch) => untilBatchStatus(stack, batch.id, FINAL_BATCH_STATUSES, 250)));
    const after = await peaks(stack.pids);
    const figures: PeakFigures = { apiBeforeMb: before.api, apiPeakMb: after.api, workerBeforeMb: before.worker, workerPeakMb: after.worker };
    return {
      figures,
      batches: done.map(({ batch }) => ({ id: batch.id, status: batch.status, counts: batch.request_counts, errors: batch.errors ?? null })),
      seconds: (Math.max(...done.map(({ at }) => at)) - started) / 1000,
    };
  } finally {
    await stopBatchStack();
  }
}

const verdict = (pass: boolean) => (pass ? "[PASS]" : "[MISS]");

async function main(): Promise<number> {
  console.log(`machine: ${cpus().length} cores, node ${process.version}, load average ${(loadavg()[0] ?? 0).toFixed(2)}${flags.quick ? ", QUICK run" : ""}`);
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-memory-bench-"));
  let keepWorkDir = false;
  try {
    const sync = await largeB64Requests(join(workDir, "sync"));
    const s = sync.figures;
    console.log(
      `\n== ${CONCURRENCY} concurrent callers, n=${IMAGES_PER_REQUEST} 1024x1024 b64_json (~1 MB PNGs), ${sync.requests} requests, ` +
        `${sync.meanReplyMb.toFixed(1)} MB per reply, p50 ${sync.latency.p50Ms.toFixed(0)} ms, p99 ${sync.latency.p99Ms.toFixed(0)} ms, ${sync.failures} failed`,
    );
    for (const [reason, count] of Object.entries(sync.failureReasons)) console.log(`  failure x${count}: ${reason}`);
    console.log(`       peak RSS of the worker (before → after)   ${s.workerBeforeMb.toFixed(0)} → ${s.workerPeakMb.toFixed(0)} MB`);
    const apiPass = s.apiPeakMb <= API_LIMIT_MB;
    console.log(`${verdict(apiPass)} peak RSS of the API (before → after)      ${s.apiBeforeMb.toFixed(0)} → ${s.apiPeakMb.toFixed(0)} MB   target ≤ ${API_LIMIT_MB} MB`);

    const batchRuns = [];
    for (const workers of [1, 2]) {
      const batch = await largeBatch(join(workDir, `batch-${workers}`), workers);
      const b = batch.figures;
      const completed = batch.batches.reduce((sum, one) => sum + one.counts.completed, 0);
      const failedLines = batch.batches.reduce((sum, one) => sum + one.counts.failed, 0);
      console.log(
        `\n== ${batchLines} batch lines to a zero-latency simulator, as ${batch.batches.length} batch(es) submitted together ` +
          `(${batch.batches.map((one) => `${one.counts.total} lines ${one.status}`).join(", ")}) in ${batch.seconds.toFixed(1)} s, ` +
          `${completed} completed, ${failedLines} failed, ${workers === 1 ? "one worker process" : `${workers} worker processes`}`,
      );
      for (const one of batch.batches) if (one.errors !== null) console.log(`  ${one.id} errors: ${JSON.stringify(one.errors).slice(0, 500)}`);
      console.log(`       peak RSS of the API (before → after)      ${b.apiBeforeMb.toFixed(0)} → ${b.apiPeakMb.toFixed(0)} MB`);
      const workerPass = b.workerPeakMb <= WORKER_LIMIT_MB;
      const whose = workers === 1 ? "the worker" : `a worker (largest of ${workers})`;
      console.log(`${verdict(workerPass)} peak RSS of ${whose} (before → after)   ${b.workerBeforeMb.toFixed(0)} → ${b.workerPeakMb.toFixed(0)} MB   target ≤ ${WORKER_LIMIT_MB} MB`);
      batchRuns.push({ ...batch, workers, completed, failedLines, workerPass });
    }

    if (flags.json !== undefined) {
      const report = { quick: flags.quick, sync: { ...sync, apiPass }, batches: batchRuns.map((run) => ({ ...run, lines: batchLines })) };
      await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`figures written to ${flags.json}`);
    }
    const failed = sync.failures > 0 || batchRuns.some((run) => run.failedLines > 0 || run.completed !== batchLines);
    keepWorkDir = failed;
    return failed ? 1 : 0;
  } catch (error) {
    keepWorkDir = true;
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs under ${workDir})`);
    return 1;
  } finally {
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
