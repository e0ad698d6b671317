import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections follow BullMQ's production guide: producers (the API)
 * fail fast while Redis is away, so a caller gets a 503 instead of a hang;
 * workers and event readers wait for Redis forever and resume on their own.
 */
export type RedisRole = "producer" | "consumer";

export function createRedisConnection(url: string, role: RedisRole, overrides: RedisOptions = {}): Redis {
  const options: RedisOptions = {
    // Reconnect quickly at first, then every 2 s at most while Redis is down.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    ...(role === "producer"
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null, enableOfflineQueue: true }),
    ...overrides,
  };
  return new Redis(url, options);
}
