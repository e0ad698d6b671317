// `node bench/src/batch-throughput.ts [--lines N] [--workers N] [--quick]`:
// ingest time and peak memory for a large batch, dispatch rate to a
// zero-latency simulator, how long a small batch waits while the large one
// drains, and upstream utilization against K slots of T ms, on the worker
// processes a deployment runs (2: compose's replicas, the k8s minimum); then
// dispatch, peak memory and utilization of one worker process alone. One
// run, one machine.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { FINAL_BATCH_STATUSES, MAX_BATCH_LINES, submitBatch, untilAllLinesDone, untilBatchStatus, writeBatchInput } from "./batch-client.ts";
import { commandCounts, resetCommandCounts } from "./redis-stats.ts";
import { startBatchStack, stopBatchStack, SLOTS_MODEL, ZERO_MODEL, type BatchStack } from "./batch-stack.ts";
import { cpuDelta, cpuSnapshot, largestPeakRssMegabytes, peakRssMegabytes, type CpuSeconds } from "./cpu-usage.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const numberFlag = (name: string): number | undefined => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || undefined : undefined);
// The largest batch the API accepts; more lines fail validation.
const lineCount = numberFlag("--lines") ?? (quick ? 10_000 : MAX_BATCH_LINES);
// As deployed: compose runs two worker replicas, and the k8s ScaledObject never fewer.
const WORKERS = numberFlag("--workers") ?? 2;
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

/** The processes a drained line costs CPU in: the API, every worker, Redis and the zero-latency simulator. */
function drainPids(stack: BatchStack): Record<string, number> {
  const { pids } = stack;
  return {
    api: pids.api,
    ...Object.fromEntries(pids.workers.map((pid, index) => [`worker-${index + 1}`, pid])),
    ...(pids.redis === undefined ? {} : { redis: pids.redis }),
    simulator: pids.zeroSimulator,
  };
}

/** µs of CPU per completed line: API, the workers together, Redis, simulator, and their sum. */
function cpuPerLine(used: CpuSeconds, lines: number) {
  const micros = (seconds: number) => (seconds * 1e6) / lines;
  const workers = Object.entries(used).reduce((sum, [role, seconds]) => (role.startsWith("worker-") ? sum + seconds : sum), 0);
  const parts = { api: micros(used.api ?? 0), workers: micros(workers), redis: micros(used.redis ?? 0), simulator: micros(used.simulator ?? 0) };
  return { ...parts, total: parts.api + parts.workers + parts.redis + parts.simulator };
}

/**
 * Submits `bigPath` and waits for it to end; `whileDraining` runs once the
 * batch is in progress. Dispatch, and the CPU each process spent per line,
 * are measured from in_progress to the end.
 */
async function drainBigBatch(stack: BatchStack, bigPath: string, whileDraining: () => Promise<void>) {
  const submitted = performance.now();
  const { batch, uploadMs } = await submitBatch(stack, bigPath);
  const running = await untilBatchStatus(stack, batch.id, ["in_progress", "failed"], 20);
  if (running.batch.status !== "in_progress") throw new Error(`batch failed validation: ${JSON.stringify(running.batch)}`);
  const cpuBefore = await cpuSnapshot(drainPids(stack));
  await resetCommandCounts(stack.redisUrl);
  await whileDraining();
  const done = await untilBatchStatus(stack, batch.id, FINAL_BATCH_STATUSES, 250);
  const counts = done.batch.request_counts;
  const cpu = cpuPerLine(cpuDelta(cpuBefore, await cpuSnapshot(drainPids(stack))), counts.completed);
  const redis = await commandCounts(stack.redisUrl);
  const perLine = (value: number) => value / counts.completed;
  return {
    uploadMs,
    ingestSeconds: (running.at - submitted) / 1000,
    counts,
    dispatchRate: counts.completed / ((done.at - running.at) / 1000),
    cpu,
    redis: { scripts: perLine(redis.scripts), commands: perLine(redis.commands), scriptMicros: perLine(redis.scriptMicros) },
  };
}

/** Lines per second a batch of UTILIZATION_LINES gets from the K-slot simulator, from dispatch to the last line's outcome. */
async function slotsThroughput(stack: BatchStack, dir: string, tag: string): Promise<number> {
  const slotsPath = join(dir, `${tag}.jsonl`);
  await writeBatchInput(slotsPath, UTILIZATION_LINES, SLOTS_MODEL, tag);
  const slotsBatch = (await submitBatch(stack, slotsPath)).batch;
  const slotsRunning = await untilBatchStatus(stack, slotsBatch.id, ["in_progress"], 10);
  // The window is the lines' own, not the output files written after it.
  const slotsDoneAt = (await untilAllLinesDone(stack, slotsBatch.id)) ?? Number.NaN;
  return UTILIZATION_LINES / ((slotsDoneAt - slotsRunning.at) / 1000);
}

/** Everything measured on one stack of `workers` worker processes. */
async function measure(dir: string, bigPath: string, workers: number, options: { direct: boolean }) {
  const stack = await startBatchStack({ workDir: join(dir, `workers-${workers}`), slots: SLOTS, slotLatencyMs: SLOT_LATENCY_MS, workers });
  try {
    const alone = await smallBatchSeconds(stack, dir, `alone-${workers}`);
    const before = { api: await peakRssMegabytes(stack.pids.api), worker: await largestPeakRssMegabytes(stack.pids.workers) };
    let during = Number.NaN;
    const big = await drainBigBatch(stack, bigPath, async () => {
      during = await smallBatchSeconds(stack, dir, `during-${workers}`);
    });
    const peak = { api: await peakRssMegabytes(stack.pids.api), worker: await largestPeakRssMegabytes(stack.pids.workers) };
    const achieved = await slotsThroughput(stack, dir, `slots-${workers}`);
    const direct = options.direct ? await directSlotsThroughput(stack, UTILIZATION_LINES) : Number.NaN;
    return { ...big, alone, during, before, peak, achieved, direct };
  } finally {
    await stopBatchStack();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "imagegen-batch-bench-"));
  console.log(`machine: ${cpus().length} cores, node ${process.version}; lines: ${lineCount}; worker processes: ${WORKERS}, then 1`);
  try {
    const bigPath = join(dir, "big.jsonl");
    await writeBatchInput(bigPath, lineCount, ZERO_MODEL, "big");
    const fleet = await measure(dir, bigPath, WORKERS, { direct: true });
    const single = await measure(dir, bigPath, 1, { direct: false });
    const ideal = (SLOTS * 1000) / SLOT_LATENCY_MS;
    const { direct } = fleet;
    const cpu = ({ api, workers, redis, simulator, total }: ReturnType<typeof cpuPerLine>) =>
      `${total.toFixed(0)} = workers ${workers.toFixed(0)} + Redis ${redis.toFixed(0)} + API ${api.toFixed(0)} + simulator ${simulator.toFixed(0)}`;
    const redis = ({ scripts, scriptMicros, commands }: typeof fleet.redis) =>
      `${scripts.toFixed(1)} scripts (${scriptMicros.toFixed(0)} µs in them), ${commands.toFixed(0)} commands in all`;
    const share = (achieved: number) => `${achieved.toFixed(2)} lines/s = ${((100 * achieved) / ideal).toFixed(1)} %, ${((100 * achieved) / direct).toFixed(1)} % of direct`;

    const rows: Array<[string, string, string, boolean | undefined]> = [
      [`upload of ${lineCount} lines (${(fleet.uploadMs / 1000).toFixed(2)} s) + validation, until in_progress`, `${fleet.ingestSeconds.toFixed(2)} s`, "", undefined],
      ["peak RSS of the API (before → after)", `${fleet.before.api.toFixed(0)} → ${fleet.peak.api.toFixed(0)} MB`, "", undefined],
      [`peak RSS of a worker, largest of ${WORKERS} (before → after)`, `${fleet.before.worker.toFixed(0)} → ${fleet.peak.worker.toFixed(0)} MB`, "", undefined],
      ["  one worker process alone", `${single.before.worker.toFixed(0)} → ${single.peak.worker.toFixed(0)} MB`, "", undefined],
      [`lines completed / failed (${WORKERS} workers, 1 worker)`, `${fleet.counts.completed} / ${fleet.counts.failed}, ${single.counts.completed} / ${single.counts.failed}`, `${lineCount} / 0`, fleet.counts.completed === lineCount && single.counts.completed === lineCount],
      [`dispatch rate to a zero-latency simulator, ${WORKERS} worker processes`, `${fleet.dispatchRate.toFixed(0)} lines/s`, "≥ 2000 lines/s", fleet.dispatchRate >= 2000],
      ["  one worker process alone", `${single.dispatchRate.toFixed(0)} lines/s`, "", undefined],
      [`  CPU per line while draining, µs, ${WORKERS} worker processes`, cpu(fleet.cpu), "", undefined],
      ["  one worker process alone", cpu(single.cpu), "", undefined],
      [`  Redis per line while draining, ${WORKERS} worker processes`, redis(fleet.redis), "", undefined],
      ["  one worker process alone", redis(single.redis), "", undefined],
      ["10-line batch alone / while the big one drains", `${fleet.alone.toFixed(2)} s / ${fleet.during.toFixed(2)} s`, "", undefined],
      [`  same simulator driven directly by ${SLOTS} callers (baseline)`, `${direct.toFixed(2)} req/s = ${((100 * direct) / ideal).toFixed(1)} %`, "", undefined],
      [`utilization, ${SLOTS} slots × ${SLOT_LATENCY_MS} ms (ideal ${ideal} lines/s), ${WORKERS} worker processes`, share(fleet.achieved), "≥ 99 % of direct", fleet.achieved / direct >= 0.99],
      ["  one worker process alone", share(single.achieved), "≥ 99 % of direct", single.achieved / direct >= 0.99],
    ];
    for (const [name, value, target, pass] of rows) {
      console.log(`${pass === undefined ? "      " : pass ? "[PASS]" : "[MISS]"} ${name.padEnd(84)} ${value.padEnd(44)} ${target}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
