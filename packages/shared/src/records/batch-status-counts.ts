import { cachedRead } from "../cached-read.js";
import type { RedisClient } from "../redis.js";
import { workspaceKeys } from "../redis-keys.js";
import { BATCH_STATUSES, type BatchStatus } from "../basics/statuses.js";
import { recordKeys } from "../redis-keys.js";

const CHUNK = 500;

export interface BatchStatusCounts {
  /** Batches kept (RECORD_RETENTION_SECONDS after they end) by status; at most `maxAgeMs` old. */
  read(): Promise<Record<BatchStatus, number>>;
}

/**
 * Batch counts by status, for /metrics. Read from the batch records
 * themselves rather than from counters bumped on each transition: the
 * records are the truth (transitions happen in the API and in every worker,
 * and ended batches leave by TTL, which no counter would see), and the read
 * is cheap enough when cached: one index read per workspace plus one
 * pipelined HGET per kept batch, every `maxAgeMs`, never per scrape. At
 * 100,000 kept batches that is ~200 pipelined round trips every period.
 */
export function createBatchStatusCounts(deps: { redis: RedisClient; prefix: string; maxAgeMs: number; now?: () => number }): BatchStatusCounts {
  const records = recordKeys(deps.prefix);

  async function count(): Promise<Record<BatchStatus, number>> {
    const counts = Object.fromEntries(BATCH_STATUSES.map((status) => [status, 0])) as Record<BatchStatus, number>;
    const workspaces = await deps.redis.smembers(workspaceKeys(deps.prefix).workspaceIds());
    for (const workspace of workspaces) {
      const index = records.batchesByWorkspace(workspace);
      for (let start = 0; ; start += CHUNK) {
        const ids = await deps.redis.zrange(index, start, start + CHUNK - 1);
        if (ids.length === 0) break;
        // One command per batch, sent without waiting for each other: the
        // batches live in different cluster slots, which one pipeline cannot span.
        const statuses = await Promise.all(ids.map((id) => deps.redis.hget(records.batch(id), "status").catch(() => null)));
        for (const status of statuses) {
          const known = BATCH_STATUSES.find((candidate) => candidate === status);
          if (known) counts[known]++;
        }
        if (ids.length < CHUNK) break;
      }
    }
    return counts;
  }

  return { read: cachedRead(deps.maxAgeMs, count, deps.now) };
}
