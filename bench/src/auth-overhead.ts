// `node bench/src/auth-overhead.ts [--quick]`: what authentication and rate
// limiting add to a request, measured in one run on one machine against the
// same path with the limits off. Two workspaces, each with a minted key:
// one with every limit set (high enough never to refuse, so every check runs
// in Redis), one with none. Requests alternate between them at concurrency 1,
// so both see the same machine state; the difference of the two is the cost
// of the limits. Authentication itself (cached verification) is measured the
// same way on two requests that differ only in it: an unknown path under
// /v1 with a valid key (authenticated, then 404) against an unknown path
// outside /v1 (404 at once). Both render the same error envelope.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { SMALL_MODEL, startStack, stopStack, type Stack } from "./stack.ts";
import { summarize, type LatencySummary } from "./stats.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TARGET_ADDED_P50_MS = 0.15;
const HIGH = 1_000_000_000;

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const counts = flags.quick ? { pairs: 300, warmup: 50 } : { pairs: 2000, warmup: 200 };

/** The admin CLI against the stack's Redis, as an operator would run it. */
function cli(stack: Stack, workDir: string, ...args: string[]): Record<string, unknown> {
  const stdout = execFileSync(process.execPath, [join(REPO_ROOT, "apps/api/dist/cli.js"), ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL: `redis://127.0.0.1:${stack.redisPort}`, MODEL_CATALOG_PATH: join(workDir, "models.yaml") },
  });
  return JSON.parse(stdout.toString()) as Record<string, unknown>;
}

function mintWorkspaceKey(stack: Stack, workDir: string, id: string, limits: Record<string, number>): string {
  cli(stack, workDir, "workspaces", "create", "--json", JSON.stringify({ id, limits }));
  return String(cli(stack, workDir, "keys", "create", "--workspace", id, "--name", "bench").key);
}

interface Target {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  expectedStatus?: number;
}

async function timeOnce(pool: Pool, target: Target): Promise<{ ms: number; headers: Record<string, unknown> }> {
  const startedMs = performance.now();
  const { statusCode, body, headers } = await pool.request({ method: target.method, path: target.path, headers: target.headers, body: target.body ?? null });
  const text = await body.text();
  const ms = performance.now() - startedMs;
  if (statusCode !== (target.expectedStatus ?? 200)) throw new Error(`${target.method} ${target.path}: HTTP ${statusCode}: ${text.slice(0, 200)}`);
  return { ms, headers };
}

/** Alternates the two targets (which goes first alternates too) and returns both latency lists. */
async function paired(pool: Pool, a: Target, b: Target, pairs: number): Promise<[number[], number[]]> {
  const aMs: number[] = [];
  const bMs: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      aMs.push((await timeOnce(pool, a)).ms);
      bMs.push((await timeOnce(pool, b)).ms);
    } else {
      bMs.push((await timeOnce(pool, b)).ms);
      aMs.push((await timeOnce(pool, a)).ms);
    }
  }
  return [aMs, bMs];
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
function row(name: string, summary: LatencySummary): string {
  return `  ${name.padEnd(34)} p50 ${fmt(summary.p50Ms).padStart(10)}   p99 ${fmt(summary.p99Ms).padStart(10)}   mean ${fmt(summary.meanMs).padStart(10)}   n=${summary.count}`;
}
function added(name: string, on: LatencySummary, off: LatencySummary): string {
  return `  ${name.padEnd(34)} p50 ${fmt(on.p50Ms - off.p50Ms).padStart(10)}   p99 ${fmt(on.p99Ms - off.p99Ms).padStart(10)}   ratio p50 ${(on.p50Ms / off.p50Ms).toFixed(3)}`;
}

async function main(): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-auth-bench-"));
  const pool = { current: undefined as Pool | undefined };
  try {
    const stack = await startStack({ workDir, workerConcurrency: 16, logLevel: "warn" });
    const limitedKey = mintWorkspaceKey(stack, workDir, "bench-limited", {
      requests_per_minute: HIGH,
      images_per_minute: HIGH,
      images_per_day: HIGH,
      concurrent_generations: 1000,
    });
    const unlimitedKey = mintWorkspaceKey(stack, workDir, "bench-unlimited", {});
    pool.current = new Pool(stack.apiUrl, { connections: 1, pipelining: 1 });

    const generation = (key: string): Target => ({
      method: "POST",
      path: "/v1/images/generations",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SMALL_MODEL, prompt: "a lighthouse, auth benchmark", size: "64x64" }),
    });
    const limits = generation(limitedKey);
    const noLimits = generation(unlimitedKey);
    const authenticated: Target = { method: "GET", path: "/v1/no-such-route", headers: { authorization: `Bearer ${unlimitedKey}` }, expectedStatus: 404 };
    const anonymous: Target = { method: "GET", path: "/no-such-route", headers: { authorization: `Bearer ${unlimitedKey}` }, expectedStatus: 404 };

    const checked = await timeOnce(pool.current, limits);
    if (!checked.headers["x-ratelimit-limit-requests"]) throw new Error("the limited workspace's responses carry no x-ratelimit headers");
    await paired(pool.current, limits, noLimits, counts.warmup);
    await paired(pool.current, authenticated, anonymous, counts.warmup);

    const [limitsMs, noLimitsMs] = await paired(pool.current, limits, noLimits, counts.pairs);
    const [authMs, noAuthMs] = await paired(pool.current, authenticated, anonymous, counts.pairs);
    const on = summarize(limitsMs);
    const off = summarize(noLimitsMs);
    const authOn = summarize(authMs);
    const authOff = summarize(noAuthMs);

    console.log(`auth + rate limit overhead, concurrency 1, ${counts.pairs} alternating pairs each${flags.quick ? " (QUICK run)" : ""}\n`);
    console.log("POST /v1/images/generations (64x64, url), minted keys:");
    console.log(row("all four limits on (rpm, ipm, ipd, conc.)", on));
    console.log(row("limits off", off));
    console.log(added("added by rate limiting", on, off));
    console.log("\nauthentication (verified-key cache hit):");
    console.log(row("GET /v1/no-such-route (key, 404)", authOn));
    console.log(row("GET /no-such-route (no auth, 404)", authOff));
    console.log(added("added by auth", authOn, authOff));
    const totalP50 = on.p50Ms - off.p50Ms + (authOn.p50Ms - authOff.p50Ms);
    console.log(`\nauth + rate limits, added p50: ${fmt(totalP50)} (target ≤ ${TARGET_ADDED_P50_MS} ms: ${totalP50 <= TARGET_ADDED_P50_MS ? "met" : "MISSED"})`);
    return 0;
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs in ${workDir}/logs)`);
    return 1;
  } finally {
    await pool.current?.close();
    await stopStack().catch((error: unknown) => console.error(String(error)));
    await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
