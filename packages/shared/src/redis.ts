import { Cluster, Redis, type ClusterNode, type RedisOptions } from "ioredis";

/**
 * Redis connections follow BullMQ's production guide: producers (the API)
 * fail fast while Redis is away, so a caller gets a 503 instead of a hang;
 * workers and event readers wait for Redis forever and resume on their own.
 */
export type RedisRole = "producer" | "consumer";

/** A single Redis (or Valkey) server, or a Redis Cluster: every role works on either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: a URL, or the seed nodes of a cluster (any nodes, not only slot owners). */
export interface RedisTarget {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: ClusterNode[] | undefined;
}

/** `host:port,host:port` as REDIS_CLUSTER_NODES gives it. */
export function parseClusterNodes(text: string): Array<{ host: string; port: number }> {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry);
      if (!match) throw new Error(`'${entry}' is not host:port`);
      return { host: match[1]!, port: Number(match[2]) };
    });
}

function roleOptions(role: RedisRole): RedisOptions {
  return {
    // Reconnect quickly at first, then every 2 s at most while Redis is down.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    ...(role === "producer" ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 } : { maxRetriesPerRequest: null, enableOfflineQueue: true }),
  };
}

export function createRedisConnection(target: RedisTarget | string, role: RedisRole, overrides: RedisOptions = {}): RedisClient {
  const resolved = typeof target === "string" ? { REDIS_URL: target } : target;
  const options = { ...roleOptions(role), ...overrides };
  if (!resolved.REDIS_CLUSTER_NODES?.length) return new Redis(resolved.REDIS_URL, options);
  // A cluster client follows MOVED/ASK redirections through reshards and
  // failovers and refreshes its slot map by itself; a producer still fails
  // fast while no node answers, a consumer waits.
  const { enableOfflineQueue, retryStrategy, ...nodeOptions } = options;
  return new Cluster(resolved.REDIS_CLUSTER_NODES, {
    redisOptions: nodeOptions,
    enableOfflineQueue: enableOfflineQueue ?? true,
    ...(retryStrategy ? { clusterRetryStrategy: (attempt: number) => retryStrategy(attempt) ?? null } : {}),
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: 2000,
  });
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

/**
 * Refuses a Redis whose topology does not match the configuration, with a
 * message an operator can act on, instead of failing later on the first
 * keyed command (MOVED from a cluster node reached as a single server).
 */
export async function assertRedisTopology(client: RedisClient): Promise<void> {
  if (client instanceof Cluster) return; // the cluster client found a cluster, or it would not have connected
  const info = await client.info("cluster");
  if (/^cluster_enabled:1\r?$/m.test(info)) {
    throw new Error(
      "REDIS_URL points at a node of a Redis Cluster, which serves only its own slots: set REDIS_CLUSTER_NODES to a few of the cluster's nodes (host:port,host:port) instead",
    );
  }
}
