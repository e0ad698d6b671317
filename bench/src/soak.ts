// `npm run bench -- soak [--minutes 20]`: mixed synchronous and batch traffic
// for a long stretch, sampling memory and handles, to show they stay flat
// after warm-up. Reports the slope of each series (per minute) over the part
// after the first quarter, and which Redis key families grew.
import { createWriteStream, openAsBlob } from "node:fs";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBatchStack, stopBatchStack, ZERO_MODEL, type BatchStack } from "./batch-stack.ts";

const args = process.argv.slice(2);
const minutes = Number(args[args.indexOf("--minutes") + 1]) || 20;
const SAMPLE_MS = 10_000;
const SYNC_CALLERS = 16;
const BATCH_EVERY_MS = 30_000;
const BATCH_LINES = 500;

/** One Redis command over a raw socket, so the soak adds no client of its own to what it measures. */
function redisCommand(url: string, ...parts: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join("")}`));
    let reply = "";
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (/\r\n$/.test(reply) && (!reply.startsWith("$") || reply.split("\r\n").length > 2)) socket.end();
    });
    socket.on("end", () => resolve(reply));
    socket.on("error", reject);
  });
}

async function rssMb(pid: number): Promise<number> {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]) / 1000;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

interface Sample {
  minute: number;
  apiRssMb: number;
  workerRssMb: number;
  redisMb: number;
  redisKeys: number;
  apiHandles: number;
  workerHandles: number;
  syncDone: number;
}

async function sample(stack: BatchStack, startedMs: number, syncDone: number): Promise<Sample> {
  const info = await redisCommand(stack.redisUrl, "INFO", "memory");
  const keys = await redisCommand(stack.redisUrl, "DBSIZE");
  return {
    minute: (Date.now() - startedMs) / 60_000,
    apiRssMb: await rssMb(stack.pids.api),
    workerRssMb: await rssMb(stack.pids.worker),
    redisMb: Number(/used_memory:(\d+)/.exec(info)?.[1]) / 1e6,
    redisKeys: Number(/:(\d+)/.exec(keys)?.[1]),
    apiHandles: await metric(stack.apiMetricsUrl, "nodejs_active_handles_total"),
    workerHandles: await metric(stack.workerMetricsUrl, "nodejs_active_handles_total"),
    syncDone,
  };
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const numerator = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const denominator = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return denominator === 0 ? 0 : numerator / denominator;
}

async function submitBatch(stack: BatchStack, dir: string, tag: string): Promise<void> {
  const path = join(dir, `${tag}.jsonl`);
  const out = createWriteStream(path);
  for (let i = 0; i < BATCH_LINES; i++) {
    out.write(`${JSON.stringify({ custom_id: `${tag}-${i}`, method: "POST", url: "/v1/images/generations", body: { model: ZERO_MODEL, prompt: `soak ${i % 20}`, size: "64x64" } })}\n`);
  }
  out.end();
  await once(out, "finish");
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", await openAsBlob(path), "input.jsonl");
  const headers = { authorization: `Bearer ${stack.apiKey}` };
  const file = (await (await fetch(`${stack.apiUrl}/v1/files`, { method: "POST", headers, body: form })).json()) as { id: string };
  await fetch(`${stack.apiUrl}/v1/batches`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/images/generations", completion_window: "24h" }),
  });
  await rm(path);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "imagegen-soak-"));
  const stack = await startBatchStack({ workDir: dir, slots: 4, slotLatencyMs: 200 });
  const startedMs = Date.now();
  const endMs = startedMs + minutes * 60_000;
  let syncDone = 0;
  let failures = 0;
  const samples: Sample[] = [];
  console.log(`soak: ${minutes} min of ${SYNC_CALLERS} synchronous callers plus a ${BATCH_LINES}-line batch every ${BATCH_EVERY_MS / 1000} s`);
  try {
    const callers = Array.from({ length: SYNC_CALLERS }, async () => {
      while (Date.now() < endMs) {
        const response = await fetch(`${stack.apiUrl}/v1/images/generations`, {
          method: "POST",
          headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ model: ZERO_MODEL, prompt: "soak", size: "64x64" }),
        }).catch(() => undefined);
        if (response?.ok) syncDone++;
        else failures++;
        await response?.arrayBuffer();
      }
    });
    let batches = 0;
    const batchTimer = setInterval(() => void submitBatch(stack, dir, `b${batches++}`).catch(() => failures++), BATCH_EVERY_MS);
    const sampler = setInterval(() => {
      void sample(stack, startedMs, syncDone).then((row) => {
        samples.push(row);
        console.log(
          `${row.minute.toFixed(1).padStart(5)} min  api ${row.apiRssMb.toFixed(0)} MB  worker ${row.workerRssMb.toFixed(0)} MB  redis ${row.redisMb.toFixed(1)} MB / ${row.redisKeys} keys  handles api ${row.apiHandles} worker ${row.workerHandles}  sync done ${row.syncDone}`,
        );
      });
    }, SAMPLE_MS);
    await Promise.all(callers);
    clearInterval(batchTimer);
    clearInterval(sampler);

    const steady = samples.filter((row) => row.minute >= minutes / 4);
    const per = (pick: (row: Sample) => number) => slope(steady.map((row) => [row.minute, pick(row)]));
    console.log(`\nafter warm-up (${steady.length} samples from minute ${(minutes / 4).toFixed(1)}), slope per minute:`);
    console.log(`  API RSS ${per((row) => row.apiRssMb).toFixed(2)} MB/min, worker RSS ${per((row) => row.workerRssMb).toFixed(2)} MB/min`);
    console.log(`  Redis memory ${per((row) => row.redisMb).toFixed(2)} MB/min, Redis keys ${per((row) => row.redisKeys).toFixed(0)} keys/min`);
    console.log(`  active handles: API ${per((row) => row.apiHandles).toFixed(2)}/min, worker ${per((row) => row.workerHandles).toFixed(2)}/min`);
    console.log(`  synchronous requests ${syncDone}, failed ${failures}, batches ${batches}`);
    console.log(
      "  Redis keys grow while retention holds them (records 7 days, finished sync jobs up to 10,000 or 1 hour); they level off when retention turns over.",
    );
  } finally {
    await stopBatchStack();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
