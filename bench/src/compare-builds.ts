// `npm run bench -- compare-builds --base REV [--quick] [--rounds N]`: this
// checkout's service against the service built at REV (a commit, tag or
// branch), side by side in one run, so "nothing got slower" is a measured
// figure rather than a comparison of runs on different days. REV is checked
// out into .data/bench-base/REV (a git worktree), installed from the lockfile
// and built once; later runs reuse it. Both builds share one redis-server and
// one zero-latency simulator, each under its own QUEUE_PREFIX, and are loaded
// in alternating rounds (base, head, head, base, ...) at c=1 and at c=64.
// `--large`: ~1 MB images instead (1024x1024, simulator noise 2): `url` at
// c=1 and `b64_json` at c=64, with the simulator called directly as a third
// target in the same rounds, so each build's added latency is printed too.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { alternateRounds, alternateRoundsWithCpu, loadLine, requestsPerSecond, runVariantBench } from "./alternate.ts";
import { failureCount, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { startVariantStacks, VARIANT_LARGE_MODEL, VARIANT_MODEL, type VariantService } from "./variant-stack.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    base: { type: "string" },
    /** Another REV instead of this checkout, e.g. to isolate one change among several. */
    head: { type: "string" },
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    large: { type: "boolean", default: false },
  },
});
if (!flags.base) {
  console.error("usage: npm run bench -- compare-builds --base REV [--head REV] [--large] [--quick] [--rounds N]");
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
function builtCheckout(rev: string): string {
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
const baseRoot = builtCheckout(flags.base!);
const headRoot = flags.head ? builtCheckout(flags.head) : undefined;
const headLabel = flags.head ?? "this checkout";

const p50 = (load: LoadResult) => summarize(load.latenciesMs).p50Ms;
const LARGE_PROMPT = "a lighthouse, large build comparison";

/** The simulator itself as a target of the rounds: what a caller gets with no service in between. */
const directTarget = (simUrl: string): VariantService => ({
  name: "direct",
  apiUrl: simUrl,
  apiKey: "",
  apiMetricsUrl: "",
  workerMetricsUrl: "",
  pids: { api: 0, worker: 0 },
});

const largeSpec =
  (responseFormat: "url" | "b64_json") =>
  (service: VariantService): RequestSpec => ({
    path: "/v1/images/generations",
    headers: { authorization: `Bearer ${service.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(
      service.name === "direct"
        ? { model: "sim", prompt: LARGE_PROMPT, size: "1024x1024", response_format: "b64_json" }
        : { model: VARIANT_LARGE_MODEL, prompt: LARGE_PROMPT, size: "1024x1024", response_format: responseFormat },
    ),
  });

/** ~1 MB images: added p50 at c=1 (url) and throughput at c=64 (b64_json), each build beside the direct call. */
async function compareLarge(services: VariantService[], simLargeUrl: string): Promise<boolean> {
  let failed = false;
  const counts = flags.quick ? { c1: 100, c64: 200, warmup: 50 } : { c1: 300, c64: 600, warmup: 100 };
  console.log(`\nbase ${flags.base} against ${headLabel}: 1024x1024 (~1.05 MB PNG), ${plan.rounds} alternating rounds${flags.quick ? " (QUICK run)" : ""}`);
  for (const [concurrency, requests, format] of [
    [1, counts.c1, "url"],
    [64, counts.c64, "b64_json"],
  ] as const) {
    const results = await alternateRoundsWithCpu([...services, directTarget(simLargeUrl)], largeSpec(format), {
      concurrency,
      requests,
      rounds: plan.rounds,
      warmup: counts.warmup,
    });
    const [base, head, direct] = results.map((each) => each.load);
    /** CPU milliseconds per request of the API and the worker: steadier than latency on a shared machine. */
    const cpuPerRequest = (index: number) => {
      const { load, cpuSeconds } = results[index]!;
      const perRequest = (role: string) => (((cpuSeconds[role] ?? 0) * 1000) / Math.max(1, load.latenciesMs.length)).toFixed(2);
      return `   CPU/request api ${perRequest("api")} ms, worker ${perRequest("worker")} ms`;
    };
    console.log(`\nc=${concurrency}, ${format}:`);
    console.log(loadLine(`base (${flags.base})`, base!, 24) + cpuPerRequest(0));
    console.log(loadLine(`head (${headLabel})`, head!, 24) + cpuPerRequest(1));
    console.log(loadLine("direct (simulator)", direct!, 24));
    console.log(`  added p50: base ${(p50(base!) - p50(direct!)).toFixed(2)} ms, head ${(p50(head!) - p50(direct!)).toFixed(2)} ms`);
    console.log(`  head / base: p50 ${(p50(head!) / p50(base!)).toFixed(3)}x, req/s ${(requestsPerSecond(head!) / requestsPerSecond(base!)).toFixed(3)}x`);
    for (const [label, load] of [["base", base!], ["head", head!], ["direct", direct!]] as const) {
      for (const [reason, count] of load.failures) console.log(`  ${label} failed ${count}x: ${reason}`);
    }
    failed ||= failureCount(base!) + failureCount(head!) + failureCount(direct!) > 0;
  }
  return !failed;
}

process.exitCode = await runVariantBench("compare-builds", async (workDir) => {
  let failed = false;
  const { services, simLargeUrl } = await startVariantStacks({
    workDir,
    workerConcurrency: 128,
    logLevel: "warn",
    largeImages: flags.large,
    variants: [
      { name: "base", env: {}, repoRoot: baseRoot },
      { name: "head", env: {}, ...(headRoot ? { repoRoot: headRoot } : {}) },
    ],
  });
  if (simLargeUrl !== undefined) return compareLarge(services, simLargeUrl);
  console.log(`\nbase ${flags.base} against ${headLabel}: 64x64 url, ${plan.rounds} alternating rounds${flags.quick ? " (QUICK run)" : ""}`);
  for (const [concurrency, requests] of [
    [1, plan.latencyRequests],
    [64, plan.throughputRequests],
  ] as const) {
    const [base, head] = await alternateRounds(services, spec, { concurrency, requests, rounds: plan.rounds, warmup: plan.warmup });
    console.log(`\nc=${concurrency}:`);
    console.log(loadLine(`base (${flags.base})`, base!, 24));
    console.log(loadLine(`head (${headLabel})`, head!, 24));
    console.log(`  head / base: p50 ${(p50(head!) / p50(base!)).toFixed(3)}x, req/s ${(requestsPerSecond(head!) / requestsPerSecond(base!)).toFixed(3)}x`);
    failed ||= failureCount(base!) + failureCount(head!) > 0;
  }
  return !failed;
});
