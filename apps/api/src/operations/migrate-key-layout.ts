import { BATCHES_QUEUE, GENERATE_IMAGE_QUEUE, WEBHOOKS_QUEUE, type RedisClient } from "@imagegen/shared";

/**
 * Renames the keys of a deployment written before keys carried hash tags
 * (`imagegen:workspace:acme` → `imagegen:workspace:{acme}`), in place, on a
 * single Redis. Run once, with the queues drained and the service stopped:
 * queued BullMQ jobs are not moved, and rate-limit windows start afresh.
 * Idempotent: keys already tagged are left alone.
 */
const ENTITY_KEYS = ["workspace", "api-key", "workspace-keys", "generation", "file", "batch", "batch-results", "batches-by-workspace"] as const;

/** The tagged name of an old key of this deployment, or undefined when it is not one to move. */
export function taggedKeyName(prefix: string, key: string): string | undefined {
  if (!key.startsWith(`${prefix}:`) || key.includes("{")) return undefined;
  const rest = key.slice(prefix.length + 1);
  for (const kind of ENTITY_KEYS) {
    const id = rest.startsWith(`${kind}:`) ? rest.slice(kind.length + 1) : undefined;
    if (id && !id.includes(":")) return `${prefix}:${kind}:{${id}}`;
  }
  const idempotency = /^idempotency:([^:]+):([0-9a-f]{64})$/.exec(rest);
  if (idempotency) return `${prefix}:idempotency:{${idempotency[1]}:${idempotency[2]}}`;
  return undefined;
}

export async function migrateKeyLayout(redis: RedisClient, prefix: string): Promise<{ renamed: number; skipped: number; queuedJobsLeft: number }> {
  if (!("scanStream" in redis) || typeof redis.scanStream !== "function" || "nodes" in redis) {
    throw new Error("migrate key-layout runs against the single Redis that holds the old layout (REDIS_URL), not a cluster");
  }
  let renamed = 0;
  let skipped = 0;
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
    for (const key of batch as string[]) {
      const target = taggedKeyName(prefix, key);
      if (target === undefined) continue;
      // RENAMENX: never overwrite a record the new layout already holds.
      if ((await redis.renamenx(key, target)) === 1) renamed++;
      else skipped++;
    }
  }
  // Jobs left in the old queue keys would never run: say how many, so the operator can re-submit them.
  const waiting = await Promise.all(
    [GENERATE_IMAGE_QUEUE, BATCHES_QUEUE, WEBHOOKS_QUEUE].map(async (queue) => {
      const [wait, prioritized, delayed] = await Promise.all([
        redis.llen(`${prefix}:${queue}:wait`),
        redis.zcard(`${prefix}:${queue}:prioritized`),
        redis.zcard(`${prefix}:${queue}:delayed`),
      ]);
      return wait + prioritized + delayed;
    }),
  );
  return { renamed, skipped, queuedJobsLeft: waiting.reduce((sum, count) => sum + count, 0) };
}
