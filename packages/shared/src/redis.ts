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

/** Network failures of the connection itself. */
const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
/**
 * Replies of a Redis that is up but cannot serve the keyspace now: loading
 * its data, a read-only replica, a cluster node that does not own the key.
 */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|NOREPLICAS|BUSY|NOAUTH|WRONGPASS)\b/;

/**
 * Whether an error means "Redis cannot be reached or cannot serve right now"
 * rather than a bug: the API answers those with 503 and a retry hint. A
 * producer connection (no offline queue) fails with "Stream isn't writeable"
 * while it reconnects, and "Connection is closed" once it has given up.
 */
export function isRedisUnavailableError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error)) return false;
  // Wrapped by a library (BullMQ, a record helper): the cause decides.
  if (depth < 3 && error.cause !== undefined && isRedisUnavailableError(error.cause, depth + 1)) return true;
  if (error.name === "MaxRetriesPerRequestError") return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return true;
  if (error.message.startsWith("Stream isn't writeable") || error.message === "Connection is closed.") return true;
  return error.name === "ReplyError" && UNAVAILABLE_REPLY.test(error.message);
}
