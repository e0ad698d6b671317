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
 * at once instead of polling.
 */
export interface GlobalSlots {
  /** One of `cap` slots of `upstream` across all workers: a lease id, or undefined when all are taken. */
  take(upstream: string, cap: number): Promise<string | undefined>;
  /** Slots free now across all workers, summed over `upstreams`. */
  free(upstreams: ReadonlyArray<{ name: string; cap: number }>): Promise<number>;
  /** Gives a slot back (never throws: a lost give lapses with its lease). */
  give(upstream: string, leaseId: string): void;
  /** Called with an upstream's name when another process (or this one) frees one of its slots. */
  onFreed(listener: (upstream: string) => void): void;
  close(): Promise<void>;
}

/** Takes a slot when fewer than ARGV[2] unexpired leases exist. Redis's own clock, so workers' clocks may differ. */
const TAKE = luaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
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
  };
}

export function createGlobalSlots(deps: {
  redis: RedisClient;
  /** A connection of its own: a subscribed connection can do nothing else. */
  subscriber: RedisClient;
  prefix: string;
  /** How long a slot stays taken without renewal: the bound on a dead worker's hold. */
  leaseMs: number;
  log: Logger;
}): GlobalSlots {
  const keys = gpuSlotKeys(deps.prefix);
  const held = new Map<string, Set<string>>();
  const listeners: Array<(upstream: string) => void> = [];

  const channel = keys.freedChannel();
  void deps.subscriber.subscribe(channel).catch((error: unknown) => deps.log.warn({ err: error }, "could not subscribe to freed GPU slots; waiting requests will poll"));
  deps.subscriber.on("message", (from: string, upstream: string) => {
    if (from === channel) for (const listener of listeners) listener(upstream);
  });

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
      const leaseId = randomUUID();
      const taken = (await TAKE(deps.redis, [keys.slots(upstream)], [cap, deps.leaseMs, leaseId])) === 1;
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
      held.get(upstream)?.delete(leaseId);
      GIVE(deps.redis, [keys.slots(upstream)], [leaseId, channel, upstream]).catch((error: unknown) =>
        deps.log.warn({ err: error, upstream }, "could not give back a GPU slot; it lapses with its lease"),
      );
    },
    onFreed(listener) {
      listeners.push(listener);
    },
    async close() {
      clearInterval(renewTimer);
      await deps.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
