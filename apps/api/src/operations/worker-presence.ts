import { countLiveWorkers, ServiceError, WORKER_STALE_AFTER_MS, type RedisClient } from "@imagegen/shared";
import type { RequestHandler } from "express";

/** How long a "workers are there" answer is reused; "none" is always read again, so a returning worker is seen at once. */
const PRESENT_CACHE_MS = 1000;

/**
 * Whether any worker consumes the generate-image queue, from the workers'
 * heartbeats. With none, a generation would only wait for its deadline, so
 * the API says so at once (503) and /readyz names the reason.
 */
export interface WorkerPresence {
  /** Middleware for the routes that need a worker: 503 in the envelope when none is there. */
  requireWorker: RequestHandler;
  /** A readiness check: rejects with the reason. */
  check(): Promise<void>;
}

export function createWorkerPresence(deps: { redis: RedisClient; prefix: string; now?: () => number }): WorkerPresence {
  const now = deps.now ?? Date.now;
  let presentUntilMs = 0;

  async function workersPresent(): Promise<boolean> {
    if (now() < presentUntilMs) return true;
    const present = (await countLiveWorkers(deps.redis, deps.prefix, now())) > 0;
    if (present) presentUntilMs = now() + PRESENT_CACHE_MS;
    return present;
  }

  return {
    async requireWorker(_req, _res, next) {
      if (await workersPresent()) return next();
      throw new ServiceError("service_unavailable", "No worker is running to generate images. Retry with backoff.", {
        retryAfterSeconds: Math.ceil(WORKER_STALE_AFTER_MS / 1000),
      });
    },
    async check(): Promise<void> {
      if (!(await workersPresent())) throw new Error(`no worker has sent a heartbeat in the last ${WORKER_STALE_AFTER_MS / 1000} s`);
    },
  };
}
