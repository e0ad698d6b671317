import { LIMIT_NAMES, ServiceError, utcDay, workspaceKeys, type LimitName, type LimitUsage, type Limits } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import { rateLimitHeaders, tightest, type WindowState } from "./rate-limit-headers.js";
import { ADMIT_SCRIPT } from "./rate-limit-script.js";

/**
 * Per-workspace and optional per-key limits, enforced in Redis so every API
 * replica shares one budget:
 * - requests per minute and images per minute (`n` counts): fixed one-minute
 *   windows starting at the first request of the window;
 * - images per day: the UTC calendar day;
 * - concurrent generations: requests between admission and their response.
 * 0 or absent means unlimited. A workspace without `requests_per_minute`
 * gets the deployment's default (RATE_LIMIT_REQUESTS_PER_MINUTE).
 */

/** Whose limits apply: the workspace's, and optionally the key's on top. */
export interface LimitSubject {
  workspaceId: string;
  workspaceLimits: Limits;
  keyId?: string | undefined;
  keyLimits?: Limits | undefined;
}

/** The outcome of `admit`; either way, `headers` go on the response. */
export type Admission =
  | {
      admitted: true;
      /** x-ratelimit-* headers for the response. */
      headers: Record<string, string>;
      /** Frees the concurrency slot; call once the response is over (idempotent). */
      release: () => void;
    }
  | { admitted: false; headers: Record<string, string>; error: ServiceError };

/**
 * A key the admission sets when it refuses, so that a command sent right
 * behind it on the same connection can see the refusal without waiting for
 * the answer (the queue's deduplication key of the job the request would
 * become: its add then adds nothing).
 */
export interface AdmissionGate {
  key: string;
  /** How long the refusal stays visible: only until the command behind it has run. */
  ttlMs: number;
}

export interface RateLimitRefusal {
  limit: LimitName;
  workspaceId: string;
}

interface Check {
  name: LimitName;
  /** Whose limit it is. */
  owner: "workspace" | "key";
  key: string;
  limit: number;
  cost: number;
  windowMs: number;
}

const MINUTE_MS = 60_000;

function msUntilNextUtcDay(nowMs: number): number {
  const next = new Date(nowMs);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - nowMs;
}

const DESCRIPTIONS: Record<LimitName, string> = {
  requests_per_minute: "requests per minute",
  images_per_minute: "images per minute",
  concurrent_generations: "concurrent generations",
  images_per_day: "images per day (UTC)",
};

export interface RateLimiterDeps {
  redis: RedisClient;
  prefix: string;
  /** Requests per minute for workspaces that set none; 0 = unlimited. */
  defaultRequestsPerMinute: number;
  onRefused?: (refusal: RateLimitRefusal) => void;
  nowMs?: () => number;
}

export function createRateLimiter(deps: RateLimiterDeps) {
  const keys = workspaceKeys(deps.prefix);
  const now = deps.nowMs ?? Date.now;
  /**
   * Slots released during this turn of the event loop, by in-flight set:
   * sent together once the turn's responses are out (one ZREM per set, not
   * one per request), and before the next request is read, so a caller's
   * next request never finds its previous slot still held here.
   */
  const releases = new Map<string, string[]>();
  let releaseScheduled = false;
  function flushReleases(): void {
    releaseScheduled = false;
    for (const [key, members] of releases) {
      // Best effort: a slot that is not removed lapses with its lease.
      deps.redis.zrem(key, ...members).catch(() => {});
    }
    releases.clear();
  }
  function releaseSlot(key: string, member: string): void {
    const members = releases.get(key);
    if (members) members.push(member);
    else releases.set(key, [member]);
    if (!releaseScheduled) {
      releaseScheduled = true;
      setImmediate(flushReleases);
    }
  }

  function scopes(subject: LimitSubject): Array<{ scope: string; owner: "workspace" | "key"; limits: Limits }> {
    const list: Array<{ scope: string; owner: "workspace" | "key"; limits: Limits }> = [
      {
        scope: "workspace",
        owner: "workspace",
        limits: { ...subject.workspaceLimits, requests_per_minute: subject.workspaceLimits.requests_per_minute ?? deps.defaultRequestsPerMinute },
      },
    ];
    if (subject.keyId !== undefined && subject.keyLimits) list.push({ scope: `key:${subject.keyId}`, owner: "key", limits: subject.keyLimits });
    return list;
  }

  function counterChecks(subject: LimitSubject, nowMs: number, wanted: { requests: number; images: number; dailyImages: number }): Check[] {
    const checks: Check[] = [];
    for (const { scope, owner, limits } of scopes(subject)) {
      const add = (name: LimitName, unit: string, window: string, cost: number, windowMs: number) => {
        const limit = limits[name] ?? 0;
        if (limit > 0 && cost > 0) checks.push({ name, owner, key: keys.rateCounter(subject.workspaceId, scope, unit, window), limit, cost, windowMs });
      };
      add("requests_per_minute", "requests", "minute", wanted.requests, MINUTE_MS);
      add("images_per_minute", "images", "minute", wanted.images, MINUTE_MS);
      add("images_per_day", "images", utcDay(nowMs), wanted.dailyImages, msUntilNextUtcDay(nowMs));
    }
    return checks;
  }

  function inFlightChecks(subject: LimitSubject): Check[] {
    return scopes(subject)
      .filter(({ limits }) => (limits.concurrent_generations ?? 0) > 0)
      .map(({ scope, owner, limits }) => ({ name: "concurrent_generations" as const, owner, key: keys.inFlight(subject.workspaceId, scope), limit: limits.concurrent_generations!, cost: 1, windowMs: 0 }));
  }

  /**
   * Runs the checks atomically; returns the refused check (if any) and each
   * check's state after the step. With a gate, a refusal also sets the gate
   * (see ADMIT_SCRIPT), and the script goes out as text: a NOSCRIPT retry
   * would land behind the add it guards.
   */
  async function run(counters: Check[], inFlight: Check[], member: string, leaseMs: number, gate?: AdmissionGate) {
    const all = [...counters, ...inFlight];
    const nowMs = now();
    const keys = all.map((check) => check.key);
    const args = [
      nowMs,
      member,
      leaseMs,
      counters.length,
      inFlight.length,
      gate?.ttlMs ?? 0,
      ...counters.flatMap((check) => [check.limit, check.cost, check.windowMs]),
      ...inFlight.map((check) => check.limit),
    ];
    let reply: number[];
    try {
      reply = (await (gate ? ADMIT_SCRIPT.withSource(deps.redis, [...keys, gate.key], args) : ADMIT_SCRIPT(deps.redis, keys, args))) as number[];
    } catch (error) {
      throw new ServiceError("service_unavailable", "The rate limiter is unavailable. Retry with backoff.", { cause: error });
    }
    const states = all.map((check, index) => ({
      check,
      state: { limit: check.limit, remaining: check.limit - reply[1 + index * 2]!, resetMs: reply[2 + index * 2]! } satisfies WindowState,
    }));
    const refusedIndex = reply[0]!;
    return { refused: refusedIndex > 0 ? states[refusedIndex - 1] : undefined, states };
  }

  function refusal(subject: LimitSubject, refused: { check: Check; state: WindowState }): ServiceError {
    const { check, state } = refused;
    deps.onRefused?.({ limit: check.name, workspaceId: subject.workspaceId });
    const what = DESCRIPTIONS[check.name];
    const message =
      check.cost > check.limit
        ? `This request asks for ${check.cost} images, more than the limit of ${check.limit} ${what}.`
        : `Rate limit reached: ${check.limit} ${what}. Retry after the time given in the Retry-After header.`;
    // A concurrency slot frees when another request ends: retrying after a second is reasonable.
    const retryAfterSeconds = check.name === "concurrent_generations" ? 1 : Math.max(1, Math.ceil(state.resetMs / 1000));
    return new ServiceError("rate_limited", message, { retryAfterSeconds });
  }

  return {
    /** The connection every check goes out on, in the order sent. */
    connection: deps.redis,
    /** Whether `admit` checks anything for this subject; with no limit set it answers at once, without Redis. */
    appliesTo(subject: LimitSubject): boolean {
      // Read from the limits alone: building the checks (their keys, the day) is admit's work, once.
      return scopes(subject).some(({ limits }) => LIMIT_NAMES.some((name) => (limits[name] ?? 0) > 0));
    },
    /**
     * Admits one image generation request of `images` images, or refuses it
     * with a 429 rate_limited error to throw. The
     * concurrency slot is leased for `leaseMs` at most, in case this process
     * dies before releasing it. The check is on its way to Redis when this
     * returns, so a `gate`d command may follow at once.
     */
    async admit(subject: LimitSubject, request: { requestId: string; images: number; leaseMs: number; gate?: AdmissionGate | undefined }): Promise<Admission> {
      const counters = counterChecks(subject, now(), { requests: 1, images: request.images, dailyImages: request.images });
      const inFlight = inFlightChecks(subject);
      if (counters.length === 0 && inFlight.length === 0) return { admitted: true, headers: {}, release: () => {} };
      const { refused, states } = await run(counters, inFlight, request.requestId, request.leaseMs, request.gate);
      const unit = (name: LimitName) => tightest(states.filter(({ check }) => check.name === name).map(({ state }) => state));
      const headers = rateLimitHeaders({ requests: unit("requests_per_minute"), images: unit("images_per_minute") });
      if (refused) return { admitted: false, headers, error: refusal(subject, refused) };
      let released = inFlight.length === 0;
      return {
        admitted: true,
        headers,
        release() {
          if (released) return;
          released = true;
          for (const check of inFlight) releaseSlot(check.key, request.requestId);
        },
      };
    },

    /**
     * Every limit that applies to the subject with what is used and left
     * now, read without taking anything (one pipelined round trip).
     */
    async usage(subject: LimitSubject): Promise<LimitUsage[]> {
      const nowMs = now();
      const counters = counterChecks(subject, nowMs, { requests: 1, images: 1, dailyImages: 1 });
      const inFlight = inFlightChecks(subject);
      const pipeline = deps.redis.pipeline();
      for (const check of counters) pipeline.get(check.key).pttl(check.key);
      for (const check of inFlight) pipeline.zcount(check.key, nowMs, "+inf");
      const replies = (await pipeline.exec()) ?? [];
      const value = (index: number) => Number(replies[index]?.[1] ?? 0) || 0;
      const counted = counters.map((check, index): LimitUsage => {
        const ttl = value(index * 2 + 1);
        const used = ttl > 0 ? value(index * 2) : 0;
        return { name: check.name, scope: check.owner, limit: check.limit, used, remaining: Math.max(0, check.limit - used), resets_in_ms: ttl > 0 ? ttl : check.windowMs };
      });
      const slots = inFlight.map((check, index): LimitUsage => {
        const used = value(counters.length * 2 + index);
        return { name: check.name, scope: check.owner, limit: check.limit, used, remaining: Math.max(0, check.limit - used), resets_in_ms: null };
      });
      return [...counted, ...slots];
    },

    /**
     * For batch dispatchers: takes `count` images from the workspace's (and
     * key's) images per day, all or nothing. Batches count against the daily
     * quota but are not refused line by line: a dispatcher reserves what it
     * is about to run and waits for tomorrow when refused.
     */
    async reserveDailyImages(subject: LimitSubject, count: number): Promise<{ reserved: boolean; remaining: number | undefined; resetMs: number }> {
      const counters = counterChecks(subject, now(), { requests: 0, images: 0, dailyImages: count });
      if (counters.length === 0) return { reserved: true, remaining: undefined, resetMs: 0 };
      const { refused, states } = await run(counters, [], "", 0);
      const state = refused?.state ?? tightest(states.map(({ state }) => state))!;
      return { reserved: !refused, remaining: state.remaining, resetMs: state.resetMs };
    },

    /**
     * For batch dispatchers: paces work by images per minute instead of
     * refusing it. Takes `count` images from the per-minute budget when it
     * has room and answers 0; otherwise takes nothing and answers how many
     * ms to wait before asking again.
     */
    async paceImages(subject: LimitSubject, count: number): Promise<{ waitMs: number }> {
      const counters = counterChecks(subject, now(), { requests: 0, images: count, dailyImages: 0 });
      if (counters.length === 0) return { waitMs: 0 };
      const { refused } = await run(counters, [], "", 0);
      return { waitMs: refused ? Math.max(1, refused.state.resetMs) : 0 };
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

