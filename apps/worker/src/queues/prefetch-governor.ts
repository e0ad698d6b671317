import { reportJobsHeldForGpu, withdrawJobsHeldReport, type Logger, type RedisClient } from "@imagegen/shared";

/**
 * Keeps a worker from taking more generate-image jobs than GPU slots can
 * start: its concurrency follows the jobs it runs plus the slots free across
 * all workers, capped by WORKER_CONCURRENCY. Jobs nobody can run yet stay in
 * Redis's wait list, where queue depth (and KEDA) can see them, instead of
 * being held by whichever worker fetched them first.
 *
 * It also reports the jobs this worker still holds waiting for a slot (a
 * freed slot may go to another worker first), so the scaling signal counts
 * queued plus held work.
 */
export interface PrefetchGovernorDeps {
  /** The generate-image Worker; BullMQ reads `concurrency` before each fetch. */
  worker: { concurrency: number };
  workerId: string;
  maxConcurrency: number;
  /** Jobs this process runs now. */
  running: () => number;
  /** Jobs this process holds waiting for a GPU slot. */
  waitingForSlot: () => number;
  /** GPU slots free now (across all workers when slots are global). */
  freeSlots: () => Promise<number>;
  redis: RedisClient;
  prefix: string;
  intervalMs: number;
  log: Logger;
  /** Runs after each tick's own work (the worker reports its capacity for fair sharing there). */
  onTick?: () => Promise<void>;
}

/** Freed-slot words arrive per call; one re-read per this many ms is enough. */
const POKE_COALESCE_MS = 20;

/** A held-jobs report outlives a few missed ticks, not a dead worker. */
const REPORT_TTL_MS = 5000;

export function createPrefetchGovernor(deps: PrefetchGovernorDeps) {
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let pokeQueued = false;

  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      const free = await deps.freeSlots();
      // At least one, so a worker whose upstreams are all busy still takes the next job as soon as one ends.
      deps.worker.concurrency = Math.max(1, Math.min(deps.maxConcurrency, deps.running() + free));
      await reportJobsHeldForGpu(deps.redis, deps.prefix, deps.workerId, deps.waitingForSlot(), REPORT_TTL_MS);
      await deps.onTick?.();
    } catch (error) {
      // Without Redis the worker cannot take jobs anyway; keep the last concurrency.
      deps.log.debug({ err: error }, "prefetch governor could not read GPU slots");
    } finally {
      ticking = false;
    }
  }

  return {
    /**
     * Re-reads soon (coalesced), e.g. when a slot was freed somewhere. Only a
     * worker at its limit cares: one below it takes the next job anyway.
     */
    poke() {
      if (pokeQueued || deps.worker.concurrency > deps.running()) return;
      pokeQueued = true;
      setTimeout(() => {
        pokeQueued = false;
        void tick();
      }, POKE_COALESCE_MS).unref();
    },
    /** Sets the first concurrency before the Worker takes any job, then keeps it current. */
    async start() {
      await tick();
      timer = setInterval(() => void tick(), deps.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await withdrawJobsHeldReport(deps.redis, deps.prefix, deps.workerId).catch(() => undefined);
    },
  };
}
