import type { UpstreamSpec } from "@imagegen/shared";
import type { AttemptVerdict, CircuitBreaker } from "./circuit-breaker.js";
import type { GlobalSlots } from "./global-slots.js";
import type { ImageUpstream } from "./upstream.js";

/** One upstream as the pool tracks it. Shared by every model it serves. */
export interface PoolMember {
  readonly spec: UpstreamSpec;
  readonly client: ImageUpstream;
  readonly breaker: CircuitBreaker;
  inFlight: number;
  /** Verdict of the active probes; true until a probe says otherwise. */
  probeHealthy: boolean;
  /** When the probes look again: the earliest an unhealthy upstream can come back. */
  nextProbeAtMs: number;
  /** When this process last had a generation succeed here (epoch ms; 0: never). */
  lastSuccessAtMs: number;
  /** A 429's Retry-After: no new work before this (epoch ms). */
  notBeforeMs: number;
  /**
   * Every slot of this upstream was taken across all workers when last asked:
   * not asked again before this (epoch ms), or before a slot is freed.
   */
  globallyFullUntilMs: number;
}

/** A slot held on one upstream; release exactly once with what the attempt said. */
export interface Lease {
  readonly member: PoolMember;
  release(verdict: AttemptVerdict, retryAfterMs?: number): void;
}

/**
 * Every upstream of the model has an open circuit or fails its probes. Sync
 * callers get 503 at once; queued work waits until `retryAtMs`.
 */
export class NoHealthyUpstreamError extends Error {
  override name = "NoHealthyUpstreamError";
  constructor(readonly retryAtMs: number) {
    super("no healthy upstream for this model");
  }
}

export interface UpstreamPool {
  /**
   * A slot on the best upstream among `names` that can take work now, else
   * the first to free up (in arrival order). Upstreams in `avoid` are used
   * only when no other usable one is left. Rejects with
   * NoHealthyUpstreamError when none is usable, or with the signal's reason.
   */
  acquire(names: readonly string[], signal: AbortSignal, avoid?: ReadonlySet<string>): Promise<Lease>;
  /** Whether a usable upstream other than those in `avoid` exists. */
  hasAlternative(names: readonly string[], avoid: ReadonlySet<string>): boolean;
  /** Re-examines waiting requests; call when health changes. */
  poke(): void;
  /** Requests of this process waiting for a slot: work held here that no GPU runs yet. */
  waiting(): number;
  members(): readonly PoolMember[];
}

/** How long an upstream whose global slots were all taken is left alone without word of a freed slot. */
const GLOBAL_RECHECK_MS = 1000;

interface Waiter {
  /** When the request first asked: its place in line, kept when it has to ask again. */
  arrivedAtMs: number;
  names: readonly string[];
  avoid: ReadonlySet<string> | undefined;
  grant(member: PoolMember): void;
  reject(error: Error): void;
}

/**
 * Least-loaded routing over GPU slots: a new request goes to the usable
 * upstream with a free slot whose (in-flight + 1) / (slots × weight) is
 * smallest. When every slot is taken it waits in one line per process, and
 * a freed slot goes to the oldest waiter that upstream can serve — so a
 * slow upstream never holds requests a free one could take.
 */
export function createUpstreamPool(
  members: readonly PoolMember[],
  now: () => number = Date.now,
  /** Caps each upstream across all worker processes; without it the cap is per process. */
  globalSlots?: GlobalSlots,
  log?: { warn(fields: object, message: string): void },
): UpstreamPool {
  const byName = new Map(members.map((member) => [member.spec.name, member]));
  const waiters: Waiter[] = [];
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAtMs = Infinity;

  /** Alive: may take work now or soon (closed or half-open circuit, passing probes). */
  const usable = (member: PoolMember) => member.probeHealthy && member.breaker.state !== "open";
  const canTakeNow = (member: PoolMember) =>
    usable(member) &&
    member.inFlight < member.spec.max_concurrency &&
    now() >= member.notBeforeMs &&
    now() >= member.globallyFullUntilMs &&
    member.breaker.canPass();
  const score = (member: PoolMember) => (member.inFlight + 1) / (member.spec.max_concurrency * member.spec.weight);

  function membersOf(names: readonly string[]): PoolMember[] {
    return names.map((name) => {
      const member = byName.get(name);
      if (!member) throw new Error(`unknown upstream '${name}'`);
      return member;
    });
  }

  /** Those not to avoid, unless that leaves none. */
  function preferred(alive: PoolMember[], avoid: ReadonlySet<string> | undefined): PoolMember[] {
    const others = avoid ? alive.filter((member) => !avoid.has(member.spec.name)) : alive;
    return others.length > 0 ? others : alive;
  }

  function best(candidates: readonly PoolMember[]): PoolMember | undefined {
    let chosen: PoolMember | undefined;
    for (const member of candidates) {
      if (canTakeNow(member) && (!chosen || score(member) < score(chosen))) chosen = member;
    }
    return chosen;
  }

  /** When the earliest of them may be usable again. */
  function recoveryAtMs(candidates: readonly PoolMember[]): number {
    return Math.min(...candidates.map((member) => (member.probeHealthy ? (member.breaker.retryAtMs ?? now()) : member.nextProbeAtMs)));
  }

  function lease(member: PoolMember): Lease {
    member.inFlight++;
    member.breaker.onStart();
    let released = false;
    return {
      member,
      release(verdict, retryAfterMs) {
        if (released) return;
        released = true;
        member.inFlight--;
        member.breaker.record(verdict);
        if (verdict === "success") member.lastSuccessAtMs = now();
        if (retryAfterMs !== undefined) {
          member.notBeforeMs = Math.max(member.notBeforeMs, now() + retryAfterMs);
          wakeAt(member.notBeforeMs);
        }
        dispatch();
      },
    };
  }

  /** Something may have freed up at `atMs` without a release (Retry-After, a cool-down ending). */
  function wakeAt(atMs: number): void {
    if (atMs >= wakeAtMs) return;
    clearTimeout(wakeTimer);
    wakeAtMs = atMs;
    wakeTimer = setTimeout(() => {
      wakeAtMs = Infinity;
      wakeTimer = undefined;
      dispatch();
    }, Math.max(0, atMs - now()));
    wakeTimer.unref();
  }

  function dispatch(): void {
    for (let index = 0; index < waiters.length; ) {
      const waiter = waiters[index]!;
      const candidates = membersOf(waiter.names);
      const alive = candidates.filter(usable);
      if (alive.length === 0) {
        waiters.splice(index, 1);
        waiter.reject(new NoHealthyUpstreamError(recoveryAtMs(candidates)));
        continue;
      }
      const member = best(preferred(alive, waiter.avoid));
      if (member) {
        waiters.splice(index, 1);
        waiter.grant(member);
        continue;
      }
      index++;
    }
    // Waiters blocked only by a Retry-After or a cool-down need a timer, not a release.
    for (const waiter of waiters) {
      for (const member of membersOf(waiter.names)) {
        if (member.notBeforeMs > now()) wakeAt(member.notBeforeMs);
        if (member.globallyFullUntilMs > now()) wakeAt(member.globallyFullUntilMs);
        const retryAt = member.breaker.retryAtMs;
        if (retryAt !== undefined) wakeAt(retryAt);
      }
    }
  }

  function localAcquire(names: readonly string[], signal: AbortSignal, avoid: ReadonlySet<string> | undefined, arrivedAtMs = now()): Promise<Lease> {
      if (signal.aborted) return Promise.reject(signal.reason);
      const candidates = membersOf(names);
      const alive = candidates.filter(usable);
      if (alive.length === 0) return Promise.reject(new NoHealthyUpstreamError(recoveryAtMs(candidates)));
      const member = best(preferred(alive, avoid));
      if (member) return Promise.resolve(lease(member));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          arrivedAtMs,
          names,
          avoid,
          grant: (granted) => {
            signal.removeEventListener("abort", onAbort);
            resolve(lease(granted));
          },
          reject: (error) => {
            signal.removeEventListener("abort", onAbort);
            reject(error);
          },
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        // In arrival order: a request that had to ask again keeps its place.
        const later = waiters.findIndex((other) => other.arrivedAtMs > arrivedAtMs);
        waiters.splice(later === -1 ? waiters.length : later, 0, waiter);
        dispatch();
      });
  }

  /**
   * A local slot, then one of the upstream's slots across all workers. When
   * those are all taken, the local slot goes back (a neutral verdict: the
   * upstream did nothing wrong), the upstream counts as full until a slot is
   * freed somewhere or GLOBAL_RECHECK_MS passes (a dead worker's lease
   * lapses without notice), and the request waits in line like any other.
   */
  async function globalAcquire(slots: GlobalSlots, names: readonly string[], signal: AbortSignal, avoid: ReadonlySet<string> | undefined): Promise<Lease> {
    const arrivedAtMs = now();
    for (;;) {
      const local = await localAcquire(names, signal, avoid, arrivedAtMs);
      const { member } = local;
      let leaseId: string | undefined;
      try {
        leaseId = await slots.take(member.spec.name, member.spec.max_concurrency);
      } catch (error) {
        // Redis is away: keep serving within this process's own cap rather than stall every GPU.
        log?.warn({ err: error, upstream: member.spec.name }, "could not take a global GPU slot; capped per process meanwhile");
        return local;
      }
      if (leaseId !== undefined) {
        const id = leaseId;
        return {
          member,
          release(verdict, retryAfterMs) {
            slots.give(member.spec.name, id);
            local.release(verdict, retryAfterMs);
          },
        };
      }
      member.globallyFullUntilMs = now() + GLOBAL_RECHECK_MS;
      local.release("neutral");
    }
  }

  globalSlots?.onFreed((upstream) => {
    const member = byName.get(upstream);
    if (!member || member.globallyFullUntilMs === 0) return;
    member.globallyFullUntilMs = 0;
    dispatch();
  });

  return {
    acquire: (names, signal, avoid) => (globalSlots ? globalAcquire(globalSlots, names, signal, avoid) : localAcquire(names, signal, avoid)),
    hasAlternative(names, avoid) {
      return membersOf(names).some((member) => usable(member) && !avoid.has(member.spec.name));
    },
    poke: dispatch,
    waiting: () => waiters.length,
    members: () => members,
  };
}
