// `npm run bench -- compare-builds --base REV [--quick] [--rounds N]`: this
// checkout's service against the service built at REV (a commit, tag or
// branch), side by side in one run, so "nothing got slower" is a measured
// figure rather than a comparison of runs on different days. REV is checked
// out into .data/bench-base/REV (a git worktree), installed from the lockfile
// and built once; later runs reuse it. Both builds share one redis-server and
// one zero-latency simulator, each under its own QUEUE_PREFIX, and are loaded
// in alternating rounds (base, head, head, base, ...) at c=1 and at c=64.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { emptyResult, failureCount, mergeInto, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { startVariantStacks, stopVariantStacks, VARIANT_MODEL, type VariantService } from "./variant-stack.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    base: { type: "string" },
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
  },
});
if (!flags.base) {
  console.error("usage: npm run bench -- compare-builds --base REV [--quick] [--rounds N]");
  process.exit(2);
}
const plan = {
  rounds: Number(flags.rounds ?? (flags.quick ? 2 : 8)),
  latencyRequests: flags.quick ? 300 : 1000,
  throughputRequests: flags.quick ? 1000 : 3000,
  warmup: flags.quick ? 300 : 1000,
};

const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });

/** A built checkout of `rev`, made once under .data/bench-base. */
function baseCheckout(rev: string): string {
  const sha = execFileSync("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  const dir = join(REPO_ROOT, ".data", "bench-base", sha.slice(0, 12));
  if (existsSync(join(dir, "apps", "worker", "dist", "main.js"))) return dir;
  console.log(`building ${rev} (${sha.slice(0, 12)}) in ${dir} ...`);
  if (!existsSync(dir)) run("git", ["worktree", "add", "--detach", dir, sha], REPO_ROOT);
  run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=silent"], dir);
  run("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"], dir);
  return dir;
}

const spec = (service: VariantService): RequestSpec => ({
  path: "/v1/images/generations",
  headers: { authorization: `Bearer ${service.apiKey}`, "content-type": "application/json" },
  body: JSON.stringify({ model: VARIANT_MODEL, prompt: "a lighthouse, build comparison", size: "64x64" }),
});
const requestsPerSecond = (load: LoadResult) => (load.latenciesMs.length / load.elapsedMs) * 1000;

async function alternate(services: VariantService[], concurrency: number, requests: number): Promise<LoadResult[]> {
  const targets = services.map((service) => ({ service, pool: new Pool(service.apiUrl, { connections: concurrency, pipelining: 1 }), load: emptyResult() }));
  try {
    for (const target of targets) {
      const warm = await runClosedLoop(target.pool, spec(target.service), { concurrency, requests: plan.warmup });
      if (failureCount(warm) > 0) throw new Error(`warm-up of '${target.service.name}' failed: ${[...warm.failures.keys()].join("; ")}`);
    }
    for (let round = 0; round < plan.rounds; round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        mergeInto(target.load, await runClosedLoop(target.pool, spec(target.service), { concurrency, requests }));
      }
    }
    return targets.map((target) => target.load);
  } finally {
    await Promise.all(targets.map((target) => target.pool.close()));
  }
}

function row(label: string, load: LoadResult): string {
  const summary = summarize(load.latenciesMs);
  return `  ${label.padEnd(24)} ${requestsPerSecond(load).toFixed(0).padStart(6)} req/s   p50 ${summary.p50Ms.toFixed(3)} ms   p99 ${summary.p99Ms.toFixed(2)} ms   failures ${failureCount(load)}`;
}

async function main(): Promise<number> {
  const baseRoot = baseCheckout(flags.base!);
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-compare-builds-"));
  let failed = false;
  try {
    const { services } = await startVariantStacks({
      workDir,
      workerConcurrency: 128,
      logLevel: "warn",
      variants: [
        { name: "base", env: {}, repoRoot: baseRoot },
        { name: "head", env: {} },
      ],
    });
    console.log(`\nbase ${flags.base} against this checkout: 64x64 url, ${plan.rounds} alternating rounds${flags.quick ? " (QUICK run)" : ""}`);
    for (const [concurrency, requests] of [
      [1, plan.latencyRequests],
      [64, plan.throughputRequests],
    ] as const) {
      const [base, head] = await alternate(services, concurrency, requests);
      console.log(`\nc=${concurrency}:`);
      console.log(row(`base (${flags.base})`, base!));
      console.log(row("head", head!));
      const p50 = (load: LoadResult) => summarize(load.latenciesMs).p50Ms;
      console.log(`  head / base: p50 ${(p50(head!) / p50(base!)).toFixed(3)}x, req/s ${(requestsPerSecond(head!) / requestsPerSecond(base!)).toFixed(3)}x`);
      failed ||= failureCount(base!) + failureCount(head!) > 0;
    }
    return failed ? 1 : 0;
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs in ${workDir}/logs)`);
    failed = true;
    return 1;
  } finally {
    await stopVariantStacks().catch((error: unknown) => console.error(String(error)));
    if (!failed) await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
