/**
 * Every Redis key the service owns outside BullMQ's own, in one module:
 * workspaces, API keys and rate limits; and the records of polled work
 * (async generations, batches, files, idempotency keys).
 *
 * Each key carries a hash tag (the part in braces), so that on a Redis
 * Cluster keys spread across masters by entity while the keys one Lua script
 * or transaction touches always share a slot:
 *   - `{workspace id}`: the workspace, its key index, its batch index, and
 *     every rate-limit counter of the workspace and of its keys (the admission
 *     script checks them all in one step);
 *   - `{key id}`: one API key's record;
 *   - `{generation id}`, `{file id}`: one record each;
 *   - `{batch id}`: the batch and its per-line results (recorded together);
 *   - `{workspace id:digest}`: one idempotency key.
 * BullMQ's keys are tagged per queue (see queues/prefix.ts).
 */
const tag = (value: string) => `{${value}}`;

export function workspaceKeys(prefix: string) {
  return {
    /** Hash: one workspace (name, models, limits, webhook secret). */
    workspace: (workspaceId: string) => `${prefix}:workspace:${tag(workspaceId)}`,
    /** Set: every workspace id, for listing. */
    workspaceIds: () => `${prefix}:workspaces`,
    /** Hash: one API key's record, found by the public id embedded in the key. */
    apiKey: (keyId: string) => `${prefix}:api-key:${tag(keyId)}`,
    /** Set: the key ids of a workspace, for listing. */
    workspaceKeyIds: (workspaceId: string) => `${prefix}:workspace-keys:${tag(workspaceId)}`,
    /** Pub/sub channel: ids of keys and workspaces that changed, so replicas drop cached copies. */
    invalidations: () => `${prefix}:access-invalidations`,
    /** Fixed-window counters and the in-flight set of one limit scope (the workspace, or one of its keys). */
    rateCounter: (workspaceId: string, scope: string, limit: string, window: string) => `${prefix}:ratelimit:${tag(workspaceId)}:${scope}:${limit}:${window}`,
    inFlight: (workspaceId: string, scope: string) => `${prefix}:ratelimit:${tag(workspaceId)}:${scope}:in-flight`,
    /** rate-limiter-flexible's key prefix for failed authentications per client address. */
    authFailuresPrefix: () => `${prefix}:auth-failures`,
    /** String (JSON): one console session, found by the SHA-256 of its cookie's token, expiring with the session. */
    consoleSession: (tokenDigestHex: string) => `${prefix}:console-session:${tag(tokenDigestHex)}`,
    /** Counter: images admitted on one UTC day (YYYY-MM-DD) for a workspace, for its usage page; expires after the window shown. */
    dailyImages: (workspaceId: string, day: string) => `${prefix}:usage:daily-images:${tag(workspaceId)}:${day}`,
    /** Hash: per worker process, the JSON report of its healthy upstreams per model (written periodically). */
    modelHealth: () => `${prefix}:model-health`,
  };
}
export type WorkspaceKeys = ReturnType<typeof workspaceKeys>;

/** Records of polled work. */
export function recordKeys(prefix: string) {
  return {
    generation: (id: string) => `${prefix}:generation:${tag(id)}`,
    file: (id: string) => `${prefix}:file:${tag(id)}`,
    batch: (id: string) => `${prefix}:batch:${tag(id)}`,
    batchResults: (id: string) => `${prefix}:batch-results:${tag(id)}`,
    batchesByWorkspace: (workspaceId: string) => `${prefix}:batches-by-workspace:${tag(workspaceId)}`,
    /** Sorted set (score: created, ms) and hash (id → JSON summary) of a workspace's recent generations, for listing. */
    generationHistory: (workspaceId: string) => `${prefix}:generation-history:${tag(workspaceId)}`,
    generationSummaries: (workspaceId: string) => `${prefix}:generation-summaries:${tag(workspaceId)}`,
    idempotency: (workspaceId: string, keyDigest: string) => `${prefix}:idempotency:${tag(`${workspaceId}:${keyDigest}`)}`,
  };
}
export type RecordKeys = ReturnType<typeof recordKeys>;

/** What workers report for autoscaling. */
export function scalingKeys(prefix: string) {
  return {
    /**
     * Hash: worker id → `{jobs held waiting for a GPU slot}:{report expiry, epoch ms}`.
     * Each worker rewrites its field every second; a dead worker's field is
     * ignored once expired and then removed.
     */
    jobsHeldForGpu: () => `${prefix}:gpu-held`,
  };
}

/** How long finished records stay readable (async results, batches, files). */
export const RECORD_RETENTION_SECONDS = 7 * 24 * 3600;

/** Keys of operations: readiness probes and the presence of workers. */
export function operationsKeys(prefix: string) {
  return {
    /** String: what one process's readiness probe writes and reads back, proving the keyspace serves it. */
    readinessProbe: (processId: string) => `${prefix}:readiness:${processId}`,
    /** Sorted set: worker id → the time (ms) of its last heartbeat; the API reads who is consuming. */
    workerHeartbeats: () => `${prefix}:worker-heartbeats`,
  };
}

/**
 * Pub/sub channel on which a worker relays a streaming job's partial images
 * to the API replica holding the caller's connection. Pub/sub, not a key:
 * partials are worth nothing to anyone who was not listening.
 */
export function partialImagesChannel(prefix: string, jobId: string): string {
  return `${prefix}:partial-images:${jobId}`;
}
