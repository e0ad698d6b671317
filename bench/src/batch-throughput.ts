// `node bench/src/batch-throughput.ts [--lines N] [--quick]`: ingest time and
// peak memory for a large batch, dispatch rate to a zero-latency simulator,
// how long a small batch waits while the large one drains, and upstream
// utilization against K slots of T ms. One run, one machine.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { FINAL_BATCH_STATUSES, MAX_BATCH_LINES, submitBatch, untilAllLinesDone, untilBatchStatus, writeBatchInput } from "./batch-client.ts";
import { startBatchStack, stopBatchStack, SLOTS_MODEL, ZERO_MODEL, type BatchStack } from "./batch-stack.ts";
import { peakRssMegabytes } from "./cpu-usage.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
// The largest batch the API accepts; more lines fail validation.
const lineCount = Number(args[args.indexOf("--lines") + 1]) || (quick ? 10_000 : MAX_BATCH_LINES);
const SLOTS = 4;
const SLOT_LATENCY_MS = 200;
const UTILIZATION_LINES = quick ? 80 : 400;

/**
 * The same simulator driven directly by K closed-loop callers: what its K
 * slots give without the service (HTTP and timer overhead included), the
 * baseline the batch's utilization is compared with in the same run.
 */
async function directSlotsThroughput(stack: BatchStack, requests: number): Promise<number> {
  const body = JSON.stringify({ model: "sim", prompt: "direct", size: "64x64", response_format: "b64_json" });
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SLOTS }, async () => {
      while (sent < requests) {
        sent++;
        const response = await fetch(`${stack.slotsSimulatorUrl}/v1/images/generations`, { method: "POST", body, headers: { "content-type": "application/json" } });
        await response.text();
      }
    }),
  );
  return requests / ((performance.now() - started) / 1000);
}

async function smallBatchSeconds(stack: BatchStack, dir: string, tag: string): Promise<number> {
  const path = join(dir, `${tag}.jsonl`);
  await writeBatchInput(path, 10, ZERO_MODEL, tag);
  const started = performance.now();
  const { batch } = await submitBatch(stack, path);
  const { at } = await untilBatchStatus(stack, batch.id, ["completed", "failed"], 20);
  return (at - started) / 1000;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "imagegen-batch-bench-"));
  console.log(`machine: ${cpus().length} cores, node ${process.version}; lines: ${lineCount}`);
  const stack = await startBatchStack({ workDir: dir, slots: SLOTS, slotLatencyMs: SLOT_LATENCY_MS });
  try {
    const alone = await smallBatchSeconds(stack, dir, "alone");
    const [apiBefore, workerBefore] = [await peakRssMegabytes(stack.pids.api), await peakRssMegabytes(stack.pids.worker)];

    const bigPath = join(dir, "big.jsonl");
    await writeBatchInput(bigPath, lineCount, ZERO_MODEL, "big");
    const submitted = performance.now();
    const { batch, uploadMs } = await submitBatch(stack, bigPath);
    const running = await untilBatchStatus(stack, batch.id, ["in_progress", "failed"], 20);
    if (running.batch.status !== "in_progress") throw new Error(`batch failed validation: ${JSON.stringify(running.batch)}`);
    const ingestSeconds = (running.at - submitted) / 1000;

    const during = await smallBatchSeconds(stack, dir, "during");
    const done = await untilBatchStatus(stack, batch.id, FINAL_BATCH_STATUSES, 250);
    const drainSeconds = (done.at - running.at) / 1000;
    const counts = done.batch.request_counts;
    const [apiPeak, workerPeak] = [await peakRssMegabytes(stack.pids.api), await peakRssMegabytes(stack.pids.worker)];

    const slotsPath = join(dir, "slots.jsonl");
    await writeBatchInput(slotsPath, UTILIZATION_LINES, SLOTS_MODEL, "slots");
    const slotsBatch = (await submitBatch(stack, slotsPath)).batch;
    const slotsRunning = await untilBatchStatus(stack, slotsBatch.id, ["in_progress"], 10);
    // The window is the lines' own: from dispatch to the last line's outcome,
    // not the output files written after it.
    const slotsDoneAt = (await untilAllLinesDone(stack, slotsBatch.id)) ?? Number.NaN;
    const achieved = UTILIZATION_LINES / ((slotsDoneAt - slotsRunning.at) / 1000);
    const ideal = (SLOTS * 1000) / SLOT_LATENCY_MS;
    const direct = await directSlotsThroughput(stack, UTILIZATION_LINES);

    const dispatchRate = counts.completed / drainSeconds;
    const rows: Array<[string, string, string, boolean | undefined]> = [
      [`upload of ${lineCount} lines (${(uploadMs / 1000).toFixed(2)} s) + validation, until in_progress`, `${ingestSeconds.toFixed(2)} s`, "", undefined],
      ["peak RSS of the API (before → after)", `${apiBefore.toFixed(0)} → ${apiPeak.toFixed(0)} MB`, "", undefined],
      ["peak RSS of the worker (before → after)", `${workerBefore.toFixed(0)} → ${workerPeak.toFixed(0)} MB`, "", undefined],
      [`lines completed / failed`, `${counts.completed} / ${counts.failed}`, `${lineCount} / 0`, counts.completed === lineCount],
      ["dispatch rate to a zero-latency simulator", `${dispatchRate.toFixed(0)} lines/s`, "≥ 2000 lines/s", dispatchRate >= 2000],
      ["10-line batch alone / while the big one drains", `${alone.toFixed(2)} s / ${during.toFixed(2)} s`, "", undefined],
      [`utilization, ${SLOTS} slots × ${SLOT_LATENCY_MS} ms (ideal ${ideal} lines/s)`, `${achieved.toFixed(2)} lines/s = ${((100 * achieved) / ideal).toFixed(1)} %`, "", undefined],
      [`  same simulator driven directly by ${SLOTS} callers (baseline)`, `${direct.toFixed(2)} req/s = ${((100 * direct) / ideal).toFixed(1)} %`, "", undefined],
      ["  batch through the service / direct baseline", `${((100 * achieved) / direct).toFixed(1)} %`, "≥ 99 %", achieved / direct >= 0.99],
    ];
    for (const [name, value, target, pass] of rows) {
      console.log(`${pass === undefined ? "      " : pass ? "[PASS]" : "[MISS]"} ${name.padEnd(72)} ${value.padEnd(28)} ${target}`);
    }
  } finally {
    await stopBatchStack();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
