// `npm run bench -- image-formats`: what output formats and edits cost, in
// one run on one machine:
//   1. transcoding one 1024x1024 image (the simulator's ~1 MB PNG) to WebP
//      and JPEG with the worker's own transcoder, in this process;
//   2. through the running service at concurrency 1: an edit with that 1 MB
//      PNG as input against a generation of the same size, each also sent
//      straight to the simulator, so the service's share is visible;
//   3. worker throughput at concurrency 16 with transcoding off (PNG, passed
//      through untouched) and on (WebP), in alternating rounds.
// Prints a report; a measurement, not a test (exits 1 only when requests fail).
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { LARGE_MODEL, startStack, stopStack } from "./stack.ts";
import { summarize, type LatencySummary } from "./stats.ts";
// The worker's transcoder itself, as built: the figure is what a job pays.
import { transcodeImage } from "../../apps/worker/dist/images/transcode.js";

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const counts = flags.quick ? { transcode: 8, c1: 15, rounds: 2, perRound: 40 } : { transcode: 30, c1: 60, rounds: 4, perRound: 160 };
const PROMPT = "a lighthouse on a cliff at dusk, benchmark";

interface RequestSpec {
  path: string;
  headers: Record<string, string>;
  body: Buffer | string;
}

let failures = 0;

async function send(pool: Pool, spec: RequestSpec): Promise<number> {
  const started = performance.now();
  const response = await pool.request({ method: "POST", path: spec.path, headers: spec.headers, body: spec.body });
  await response.body.arrayBuffer();
  if (response.statusCode !== 200) failures++;
  return performance.now() - started;
}

async function sequential(pool: Pool, spec: RequestSpec, requests: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < requests; index++) latencies.push(await send(pool, spec));
  return latencies;
}

/** Requests per second with `concurrency` callers sending `requests` in all. */
async function throughput(pool: Pool, spec: RequestSpec, requests: number, concurrency: number): Promise<number> {
  let remaining = requests;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining-- > 0) await send(pool, spec);
    }),
  );
  return requests / ((performance.now() - started) / 1000);
}

function json(path: string, headers: Record<string, string>, body: object): RequestSpec {
  return { path, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) };
}

async function multipart(path: string, headers: Record<string, string>, fields: Record<string, string>, image: Buffer): Promise<RequestSpec> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("image", new Blob([image], { type: "image/png" }), "input.png");
  const encoded = new Response(form);
  return { path, headers: { ...headers, "content-type": encoded.headers.get("content-type")! }, body: Buffer.from(await encoded.arrayBuffer()) };
}

const fmt = (summary: LatencySummary) => `p50 ${summary.p50Ms.toFixed(1)} ms, mean ${summary.meanMs.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), "bench-formats-"));
  console.log(`image-formats benchmark: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(2)}, node ${process.version}`);
  try {
    const stack = await startStack({ workDir, workerConcurrency: 64, logLevel: "warn" });
    const sim = new Pool(stack.simLargeUrl, { connections: 32 });
    const api = new Pool(stack.apiUrl, { connections: 32 });
    const auth = { authorization: `Bearer ${stack.apiKey}` };

    // The 1024x1024 picture everything starts from: the simulator's ~1 MB PNG.
    const reply = await sim.request({ method: "POST", path: "/v1/images/generations", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: PROMPT, size: "1024x1024", response_format: "b64_json" }) });
    const b64 = /"b64_json":"([A-Za-z0-9+/=]+)"/.exec(await reply.body.text())?.[1];
    if (b64 === undefined) throw new Error("the simulator answered no image");
    const png = Buffer.from(b64, "base64");
    console.log(`\ninput: 1024x1024 PNG of ${(png.length / 1e6).toFixed(2)} MB`);

    console.log("\n1. transcoding one 1024x1024 image (worker's transcoder, sharp/libvips, this process)");
    for (const encoding of [
      { outputFormat: "webp" as const },
      { outputFormat: "webp" as const, outputCompression: 80 },
      { outputFormat: "jpeg" as const },
      { outputFormat: "jpeg" as const, outputCompression: 80 },
      { outputFormat: "png" as const },
    ]) {
      const latencies: number[] = [];
      let bytes = 0;
      for (let index = 0; index < counts.transcode + 3; index++) {
        const started = performance.now();
        const out = await transcodeImage({ bytes: png, contentType: "image/png" }, encoding);
        if (index >= 3) latencies.push(performance.now() - started);
        bytes = out.bytes.length;
      }
      const label = `${encoding.outputFormat}${encoding.outputCompression === undefined ? "" : ` q${encoding.outputCompression}`}`.padEnd(8);
      console.log(`   ${label} ${fmt(summarize(latencies))}; ${(bytes / 1e6).toFixed(2)} MB${encoding.outputFormat === "png" ? " (passed through, no re-encoding)" : ""}`);
    }

    console.log(`\n2. edit with a 1 MB input vs a generation, concurrency 1, ${counts.c1} requests each per round, ${counts.rounds} alternating rounds (url responses)`);
    const paths = {
      "simulator generation": { pool: sim, spec: json("/v1/images/generations", {}, { prompt: PROMPT, size: "1024x1024", response_format: "url" }) },
      "simulator edit": { pool: sim, spec: await multipart("/v1/images/edits", {}, { prompt: PROMPT, size: "1024x1024", response_format: "url" }, png) },
      "service generation": { pool: api, spec: json("/v1/images/generations", auth, { model: LARGE_MODEL, prompt: PROMPT, size: "1024x1024" }) },
      "service edit": { pool: api, spec: await multipart("/v1/images/edits", auth, { model: LARGE_MODEL, prompt: PROMPT, size: "1024x1024" }, png) },
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
    for (const { pool, spec } of Object.values(paths)) await sequential(pool, spec, 5);
    for (let round = 0; round < counts.rounds; round++) {
      for (const [name, { pool, spec }] of Object.entries(paths)) samples[name]!.push(...(await sequential(pool, spec, counts.c1)));
    }
    const p50 = (name: string) => summarize(samples[name]!).p50Ms;
    for (const name of Object.keys(paths)) console.log(`   ${name.padEnd(22)} ${fmt(summarize(samples[name]!))}`);
    console.log(`   added by the service: generation ${(p50("service generation") - p50("simulator generation")).toFixed(1)} ms, edit ${(p50("service edit") - p50("simulator edit")).toFixed(1)} ms (p50)`);
    console.log(`   edit minus generation through the service: ${(p50("service edit") - p50("service generation")).toFixed(1)} ms (p50), of which the simulator's own edit work ${(p50("simulator edit") - p50("simulator generation")).toFixed(1)} ms`);

    console.log(`\n3. worker throughput, concurrency 16, 1024x1024, ${counts.perRound} requests per round, ${counts.rounds} alternating rounds`);
    const variants = {
      "transcoding off (png)": json("/v1/images/generations", auth, { model: LARGE_MODEL, prompt: PROMPT, size: "1024x1024", output_format: "png" }),
      "transcoding on (webp)": json("/v1/images/generations", auth, { model: LARGE_MODEL, prompt: PROMPT, size: "1024x1024", output_format: "webp" }),
      "transcoding on (jpeg)": json("/v1/images/generations", auth, { model: LARGE_MODEL, prompt: PROMPT, size: "1024x1024", output_format: "jpeg" }),
    };
    const rates: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    for (const spec of Object.values(variants)) await throughput(api, spec, 32, 16);
    for (let round = 0; round < counts.rounds; round++) {
      for (const [name, spec] of Object.entries(variants)) rates[name]!.push(await throughput(api, spec, counts.perRound, 16));
    }
    for (const [name, values] of Object.entries(rates)) {
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      console.log(`   ${name.padEnd(22)} ${mean.toFixed(1)} req/s (rounds: ${values.map((value) => value.toFixed(1)).join(", ")})`);
    }
    console.log(`\nfailed requests: ${failures}`);
    await Promise.all([sim.close(), api.close()]);
  } finally {
    await stopStack();
    await rm(workDir, { recursive: true, force: true });
  }
  process.exitCode = failures > 0 ? 1 : 0;
}

await main();
