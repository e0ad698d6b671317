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
