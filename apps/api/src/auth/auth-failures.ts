import type { RedisClient } from "@imagegen/shared";
import { RateLimiterRedis } from "rate-limiter-flexible";

/**
 * Failed authentications per client address, shared by every replica
 * through Redis (rate-limiter-flexible, one-minute windows). An address over
 * the limit gets 429 for every credential that does not open anything, so
 * guessing stops; valid credentials from it still pass (the limit spares CPU
 * and Redis, the 256-bit keys protect themselves).
 */
export interface AuthFailureLimiter {
  /** ms until the address may try again; 0 when it may try now. */
  blockedForMs(address: string): Promise<number>;
  recordFailure(address: string): Promise<void>;
}

export const noAuthFailureLimit: AuthFailureLimiter = {
  blockedForMs: async () => 0,
  recordFailure: async () => {},
};

export function createAuthFailureLimiter(deps: { redis: RedisClient; keyPrefix: string; failuresPerMinute: number }): AuthFailureLimiter {
  if (deps.failuresPerMinute <= 0) return noAuthFailureLimit;
  const limiter = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: deps.keyPrefix,
    points: deps.failuresPerMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });
  return {
    async blockedForMs(address) {
      const state = await limiter.get(address);
      return state && state.consumedPoints >= deps.failuresPerMinute ? Math.max(1, state.msBeforeNext) : 0;
    },
    async recordFailure(address) {
      await limiter.penalty(address, 1);
    },
  };
}
