// What the side-by-side benchmarks share: closed-loop load against several
// services in alternating rounds (a, b, b, a, ...), so the machine's noise
// hits each alike, and a run that always stops what it started.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { cpuDelta, cpuSnapshot, type CpuSeconds } from "./cpu-usage.ts";
import { emptyResult, failureCount, mergeInto, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { summarize } from "./stats.ts";
import { stopVariantStacks, type VariantService } from "./variant-stack.ts";

export const requestsPerSecond = (load: LoadResult): number => (load.latenciesMs.length / load.elapsedMs) * 1000;

/**
 * The order of round `round`: rotated by one every two rounds and reversed
 * on odd rounds, so with two or three services each one goes first, last and
 * after each of the others about equally often.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2) % Math.max(1, items.length);
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 0 ? rotated : rotated.reverse();
}

/** Warms each service up, then runs `rounds` alternating rounds; the merged result of each, in order. */
export async function alternateRounds(
  services: readonly VariantService[],
  spec: (service: VariantService) => RequestSpec,
  plan: { concurrency: number; requests: number; rounds: number; warmup: number },
): Promise<LoadResult[]> {
  return (await alternateRoundsWithCpu(services, spec, plan)).map((each) => each.load);
}

/**
 * The same, with the CPU seconds each service's API and worker used during
 * its own rounds: on a shared machine CPU per request moves far less than
 * latency when other work competes for the cores.
 */
export async function alternateRoundsWithCpu(
  services: readonly VariantService[],
  spec: (service: VariantService) => RequestSpec,
  plan: { concurrency: number; requests: number; rounds: number; warmup: number },
): Promise<Array<{ load: LoadResult; cpuSeconds: CpuSeconds }>> {
  const targets = services.map((service) => ({
    service,
    pool: new Pool(service.apiUrl, { connections: plan.concurrency, pipelining: 1 }),
    load: emptyResult(),
    cpuSeconds: {} as CpuSeconds,
  }));
  try {
    for (const target of targets) {
      const warm = await runClosedLoop(target.pool, spec(target.service), { concurrency: plan.concurrency, requests: plan.warmup });
      if (failureCount(warm) > 0) throw new Error(`warm-up of '${target.service.name}' failed: ${[...warm.failures.keys()].join("; ")}`);
    }
    for (let round = 0; round < plan.rounds; round++) {
      for (const target of roundOrder(targets, round)) {
        const before = await cpuSnapshot(target.service.pids);
        mergeInto(target.load, await runClosedLoop(target.pool, spec(target.service), { concurrency: plan.concurrency, requests: plan.requests }));
        for (const [role, seconds] of Object.entries(cpuDelta(before, await cpuSnapshot(target.service.pids)))) {
          target.cpuSeconds[role] = (target.cpuSeconds[role] ?? 0) + seconds;
        }
      }
    }
    return targets.map((target) => ({ load: target.load, cpuSeconds: target.cpuSeconds }));
  } finally {
    await Promise.all(targets.map((target) => target.pool.close()));
  }
}

/** One line of a comparison: throughput, p50, p99 and failures. */
export function loadLine(label: string, load: LoadResult, labelWidth = 40): string {
  const summary = summarize(load.latenciesMs);
  return `  ${label.padEnd(labelWidth)} ${requestsPerSecond(load).toFixed(0).padStart(6)} req/s   p50 ${summary.p50Ms.toFixed(3)} ms   p99 ${summary.p99Ms.toFixed(2)} ms   failures ${failureCount(load)}`;
}

/**
 * Runs a benchmark in a fresh work folder: exit code 1 on an error (logs kept
 * for a look), the variant stacks stopped and the folder removed otherwise.
 */
export async function runVariantBench(name: string, body: (workDir: string) => Promise<boolean>): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), `imagegen-${name}-`));
  let ok = false;
  // Stopped from outside (Ctrl-C, a CI timeout): stop what was started rather than leave it running.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the services (logs in ${workDir}/logs)`);
    void stopVariantStacks().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    ok = await body(workDir);
    return ok ? 0 : 1;
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)} (logs in ${workDir}/logs)`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopVariantStacks().catch((error: unknown) => console.error(String(error)));
    if (ok) await rm(workDir, { recursive: true, force: true });
  }
}
