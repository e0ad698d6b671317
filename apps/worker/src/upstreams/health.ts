import type { Logger } from "@imagegen/shared";
import type { PoolMember } from "./pool.js";

export interface ProbeRunner {
  start(): void;
  stop(): void;
}

/**
 * Active health: each upstream's cheap readiness request every
 * `interval_ms` (±10 % jitter, so replicas do not probe in step). After
 * `unhealthy_threshold` failures in a row the upstream leaves rotation; one
 * success brings it back. Probes never take a GPU slot: they ask the server
 * whether it is up, not for work.
 *
 * A probe that times out while a generation on the same upstream succeeded
 * is not a failure: the server answers work, it is only slow to answer
 * everything else. A busy GPU server queues the probe behind its
 * generations; counting that as down took the only upstream of a model
 * out of rotation under load, and every waiting caller got 503.
 */
export function createProbeRunner(deps: {
  members: readonly PoolMember[];
  log: Logger;
  /** Told when an upstream's probe verdict flips, so waiting requests are re-examined. */
  onChange: (member: PoolMember) => void;
  random?: () => number;
  now?: () => number;
}): ProbeRunner {
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const timers = new Set<NodeJS.Timeout>();
  let running = false;

  function schedule(member: PoolMember, failures: number): void {
    if (!running) return;
    const { interval_ms: intervalMs } = member.spec.health_check;
    const delayMs = Math.round(intervalMs * (0.9 + 0.2 * random()));
    member.nextProbeAtMs = now() + delayMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void probeOnce(member, failures);
    }, delayMs);
    timer.unref();
    timers.add(timer);
  }

  async function probeOnce(member: PoolMember, failures: number): Promise<void> {
    const { timeout_ms: timeoutMs, unhealthy_threshold: threshold } = member.spec.health_check;
    let failed = 0;
    const startedAtMs = now();
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      await member.client.probe(timeout);
    } catch (error) {
      if (timeout.aborted && member.lastSuccessAtMs >= startedAtMs) {
        deps.log.debug({ upstream: member.spec.name }, "health probe timed out while generations succeeded; not counted");
        schedule(member, failures);
        return;
      }
      failed = failures + 1;
      if (member.probeHealthy && failed >= threshold) {
        member.probeHealthy = false;
        deps.log.warn({ upstream: member.spec.name, reason: (error as Error).message }, "upstream failed its health probes; out of rotation");
        deps.onChange(member);
      }
    }
    if (failed === 0 && !member.probeHealthy) {
      member.probeHealthy = true;
      deps.log.info({ upstream: member.spec.name }, "upstream passed its health probe; back in rotation");
      deps.onChange(member);
    }
    schedule(member, failed);
  }

  return {
    start() {
      if (running) return;
      running = true;
      for (const member of deps.members) {
        if (member.spec.health_check.enabled) schedule(member, 0);
      }
    },
    stop() {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
