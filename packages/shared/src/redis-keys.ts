/**
 * Every Redis key the service owns outside BullMQ's own, in one module:
 * workspaces, API keys and rate limits; and the records of polled work
 * (async generations, batches, files, idempotency keys). With Redis Cluster,
 * use a hash-tagged QUEUE_PREFIX such as `{imagegen}`: the Lua scripts touch
 * several of these keys in one step, which requires them in one slot.
 */
export function workspaceKeys(prefix: string) {
  return {
    /** Hash: one workspace (name, models, limits, webhook secret). */
    workspace: (workspaceId: string) => `${prefix}:workspace:${workspaceId}`,
    /** Set: every workspace id, for listing. */
    workspaceIds: () => `${prefix}:workspaces`,
    /** Hash: one API key's record, found by the public id embedded in the key. */
    apiKey: (keyId: string) => `${prefix}:api-key:${keyId}`,
    /** Set: the key ids of a workspace, for listing. */
    workspaceKeyIds: (workspaceId: string) => `${prefix}:workspace-keys:${workspaceId}`,
    /** Pub/sub channel: ids of keys and workspaces that changed, so replicas drop cached copies. */
    invalidations: () => `${prefix}:access-invalidations`,
    /** Fixed-window counters and the in-flight set of one limit scope (a workspace or a key). */
    rateCounter: (scope: string, limit: string, window: string) => `${prefix}:ratelimit:${scope}:${limit}:${window}`,
    inFlight: (scope: string) => `${prefix}:ratelimit:${scope}:in-flight`,
    /** rate-limiter-flexible's key prefix for failed authentications per client address. */
    authFailuresPrefix: () => `${prefix}:auth-failures`,
  };
}
export type WorkspaceKeys = ReturnType<typeof workspaceKeys>;

/** Records of polled work. With Redis Cluster, a hash-tagged QUEUE_PREFIX keeps a batch's keys in one slot, which its Lua scripts require. */
export function recordKeys(prefix: string) {
  return {
    generation: (id: string) => `${prefix}:generation:${id}`,
    file: (id: string) => `${prefix}:file:${id}`,
    batch: (id: string) => `${prefix}:batch:${id}`,
    batchResults: (id: string) => `${prefix}:batch-results:${id}`,
    batchesByWorkspace: (workspaceId: string) => `${prefix}:batches-by-workspace:${workspaceId}`,
    idempotency: (workspaceId: string, keyDigest: string) => `${prefix}:idempotency:${workspaceId}:${keyDigest}`,
  };
}
export type RecordKeys = ReturnType<typeof recordKeys>;

/** How long finished records stay readable (async results, batches, files). */
export const RECORD_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Pub/sub channel on which a worker relays a streaming job's partial images
 * to the API replica holding the caller's connection. Pub/sub, not a key:
 * partials are worth nothing to anyone who was not listening.
 */
export function partialImagesChannel(prefix: string, jobId: string): string {
  return `${prefix}:partial-images:${jobId}`;
}
