import { ServiceError } from "@imagegen/shared";
import type { Response } from "express";
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Principal } from "./auth/api-keys.js";

export interface RateLimiter {
  /** Counts one request for the caller; throws 429 when over the limit. Sets x-ratelimit-* headers. */
  consume(principal: Principal, res: Response): Promise<void>;
}

export const noRateLimit: RateLimiter = { consume: async () => {} };

/**
 * Requests per minute per API key, counted atomically in Redis so every API
 * replica shares one budget. rate-limiter-flexible does the counting (one
 * Lua round trip) and reports the time to reset, which becomes Retry-After.
 */
export function createRedisRateLimiter(deps: { redis: Redis; requestsPerMinute: number; keyPrefix: string }): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: `${deps.keyPrefix}:ratelimit:rpm`,
    points: deps.requestsPerMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });

  function setHeaders(res: Response, state: RateLimiterRes): void {
    res.setHeader("x-ratelimit-limit-requests", String(deps.requestsPerMinute));
    res.setHeader("x-ratelimit-remaining-requests", String(Math.max(0, state.remainingPoints)));
    res.setHeader("x-ratelimit-reset-requests", `${Math.ceil(state.msBeforeNext / 1000)}s`);
  }

  return {
    async consume(principal, res) {
      try {
        setHeaders(res, await limiter.consume(principal.keyId));
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          setHeaders(res, error);
          throw new ServiceError("rate_limited", `Rate limit reached: ${deps.requestsPerMinute} requests per minute.`, {
            retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)),
          });
        }
        throw new ServiceError("service_unavailable", "The rate limiter is unavailable. Retry with backoff.", { cause: error });
      }
    },
  };
}
