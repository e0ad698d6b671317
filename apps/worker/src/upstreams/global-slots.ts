import { luaScript, type Logger, type RedisClient } from "@imagegen/shared";
import { randomUUID } from "node:crypto";

/**
 * An upstream's `max_concurrency` as a cap across every worker process: a
 * semaphore in Redis whose holders are leases that lapse unless renewed, so
 * a worker that dies mid-call frees its slots by itself after `leaseMs`.
 *
 * Redis keys (one slot per upstream, so each script touches one slot):
 *   `{prefix}:gpu-slots:{upstream}`  ZSET lease id → lease end (Redis time, ms)
 * A freed slot is announced on `{prefix}:gpu-slot-freed` (payload: the
 * upstream), so a process with requests waiting for that upstream asks again
 * at once instead of polling. A take that finds every slot taken says so on
 * `{prefix}:gpu-slot-wanted` (payload: the taker's id, `|`, the upstream):
 * another process keeping a given-back slot warm for its own next call lets
 * it go at once, and gives its slots straight back for a while.
 */
export interface GlobalSlots {
  /** One of `cap` slots of `upstream` across all workers: a lease id, or undefined when all are taken. */
  take(upstream: string, cap: number): Promise<string | undefined>;
  /** Slots free now across all workers, summed over `upstreams`. */
  free(upstreams: ReadonlyArray<{ name: string; cap: number }>): Promise<number>;
  /**
   * Gives a slot back (never throws: a lost give lapses with its lease). It
   * stays with this process for a few milliseconds first, for its next call.
   */
  give(upstream: string, leaseId: string): void;
  /** Called with an upstream's name when another process (or this one) frees one of its slots. */
  onFreed(listener: (upstream: string) => void): void;
  close(): Promise<void>;
}

/**
 * Takes a slot when fewer than ARGV[1] unexpired leases exist; else
 * announces that one is wanted. Redis's own clock, so workers' clocks may differ.
 */
const TAKE = luaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`);

/** Slots not held by an unexpired lease. */
const FREE = luaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return math.max(0, tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1]))
`);

/**
 * How long a slot given back stays with this process for its next call to
 * the same upstream. Back-to-back calls then skip two Redis round trips. A
 * worker elsewhere that finds every slot taken says so, and the slot goes
 * back at once: otherwise it would wait out the rest of this time, ~10 % of
 * a 200 ms generation.
 */
const WARM_LEASE_MS = 20;

/**
 * How long word that a process waits for an upstream's slot is believed. A
 * waiting request asks again at least once a second (the pool's
 * GLOBAL_RECHECK_MS), saying so again while it still waits.
 */
const WANTED_MEMORY_MS = 1000;

/** Gives a slot back and says so. */
const GIVE = luaScript(`
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return removed
`);

/** Extends the leases still held (XX: a lease that already lapsed is not brought back). */
const RENEW = luaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1
`);

export function gpuSlotKeys(prefix: string) {
  return {
    slots: (upstream: string) => `${prefix}:gpu-slots:{${upstream}}`,
    freedChannel: () => `${prefix}:gpu-slot-freed`,
    wantedChannel: () => `${prefix}:gpu-slot-wanted`,
  };
}

export function createGlobalSlots(deps: {
  redis: RedisClient;
  /** A connection of its own: a subscribed connection can do nothing else. */
  subscriber: RedisClient;
  prefix: string;
  /** How long a slot stays taken without renewal: the bound on a dead worker's hold. */
  leaseMs: number;
  /** How long a given-back slot waits for this process's next call (default 20 ms). */
  warmMs?: number;
  log: Logger;
}): GlobalSlots {
  const warmMs = deps.warmMs ?? WARM_LEASE_MS;
  /** Tells this process's own word that it wants a slot from another's: its kept slots serve its own waiting requests anyway. */
  const selfId = randomUUID();
  const keys = gpuSlotKeys(deps.prefix);
  const held = new Map<string, Set<string>>();
  /** Leases given back but kept for `warmMs`, per upstream. */
  const warm = new Map<string, Array<{ leaseId: string; timer: NodeJS.Timeout }>>();
  const listeners: Array<(upstream: string) => void> = [];
  /** Until when another process is known to wait for a slot, per upstream (epoch ms). */
  const wantedUntil = new Map<string, number>();

  function giveNow(upstream: string, leaseId: string): void {
    held.get(upstream)?.delete(leaseId);
    GIVE(deps.redis, [keys.slots(upstream)], [leaseId, channel, upstream]).catch((error: unknown) =>
      deps.log.warn({ err: error, upstream }, "could not give back a GPU slot; it lapses with its lease"),
    );
  }

  /** Another process found every slot of `upstream` taken: the warm ones go back now. */
  function giveWarmNow(upstream: string): void {
    for (const { leaseId, timer } of warm.get(upstream)?.splice(0) ?? []) {
      clearTimeout(timer);
      giveNow(upstream, leaseId);
    }
  }

  const channel = keys.freedChannel();
  const wantedChannel = keys.wantedChannel();
  void deps.subscriber
    .subscribe(channel, wantedChannel)
    .catch((error: unknown) => deps.log.warn({ err: error }, "could not subscribe to freed GPU slots; waiting requests will poll"));
  deps.subscriber.on("message", (from: string, payload: string) => {
    if (from === channel) for (const listener of listeners) listener(payload);
    else if (from === wantedChannel) onWanted(payload);
  });

  /** `{taker id}|{upstream}`: from another process, its slots go back at once for a while. */
  function onWanted(payload: string): void {
    const separator = payload.indexOf("|");
    if (separator < 0 || payload.slice(0, separator) === selfId) return;
    const upstream = payload.slice(separator + 1);
    wantedUntil.set(upstream, Date.now() + WANTED_MEMORY_MS);
    giveWarmNow(upstream);
  }

  // Renew well before a lease would lapse, so a slow Redis round trip never frees a slot that is in use.
  const renewTimer = setInterval(() => {
    for (const [upstream, leases] of held) {
      if (leases.size === 0) continue;
      RENEW(deps.redis, [keys.slots(upstream)], [deps.leaseMs, ...leases]).catch((error: unknown) =>
        deps.log.warn({ err: error, upstream }, "could not renew GPU slot leases"),
      );
    }
  }, Math.max(100, Math.floor(deps.leaseMs / 3)));
  renewTimer.unref();

  return {
    async take(upstream, cap) {
      const kept = warm.get(upstream)?.pop();
      if (kept) {
        clearTimeout(kept.timer);
        return kept.leaseId;
      }
      const leaseId = randomUUID();
      const taken = (await TAKE(deps.redis, [keys.slots(upstream)], [cap, deps.leaseMs, leaseId, wantedChannel, `${selfId}|${upstream}`])) === 1;
      if (!taken) return undefined;
      const leases = held.get(upstream) ?? new Set<string>();
      leases.add(leaseId);
      held.set(upstream, leases);
      return leaseId;
    },
    async free(upstreams) {
      // One step per upstream, sent together: each upstream's set is in a slot of its own.
      const counts = await Promise.all(upstreams.map((upstream) => FREE(deps.redis, [keys.slots(upstream.name)], [upstream.cap])));
      return counts.reduce<number>((sum, count) => sum + Number(count), 0);
    },
    give(upstream, leaseId) {
      if ((wantedUntil.get(upstream) ?? 0) > Date.now()) {
        giveNow(upstream, leaseId);
        return;
      }
      const leases = warm.get(upstream) ?? [];
      const entry = {
        leaseId,
        timer: setTimeout(() => {
          leases.splice(leases.indexOf(entry), 1);
          giveNow(upstream, leaseId);
        }, warmMs),
      };
      entry.timer.unref();
      leases.push(entry);
      warm.set(upstream, leases);
    },
    onFreed(listener) {
      listeners.push(listener);
    },
    async close() {
      clearInterval(renewTimer);
      for (const upstream of warm.keys()) giveWarmNow(upstream);
      await deps.subscriber.unsubscribe(channel, wantedChannel).catch(() => undefined);
    },
  };
}
