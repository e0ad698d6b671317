import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { workspaceKeys, type Logger, type ModelHealthReport, type RedisClient } from "@imagegen/shared";
import type { ModelUpstreamHealth } from "./model-health.js";

/**
 * Publishes this worker's view of upstream health per model to Redis every
 * `intervalMs` (one HSET of its own field), so the API can tell callers
 * whether a model is healthy without asking workers. The field is removed on
 * shutdown; a crashed worker's report goes stale after three intervals.
 */
export function createModelHealthPublisher(deps: {
  redis: RedisClient;
  prefix: string;
  intervalMs: number;
  report: () => ModelUpstreamHealth[];
  log: Logger;
  nowMs?: () => number;
}) {
  const now = deps.nowMs ?? Date.now;
  const field = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const key = workspaceKeys(deps.prefix).modelHealth();
  let timer: NodeJS.Timeout | undefined;

  async function publish(): Promise<void> {
    const report: ModelHealthReport = {
      at: now(),
      interval_ms: deps.intervalMs,
      models: Object.fromEntries(deps.report().map((entry) => [entry.model, entry.healthy])),
    };
    await deps.redis.hset(key, field, JSON.stringify(report));
  }

  // While Redis is away, one write waits; later ticks do not pile up behind it.
  let pending = false;
  const publishQuietly = () => {
    if (pending) return;
    pending = true;
    publish()
      .catch((error: unknown) => deps.log.debug({ err: error }, "could not publish model health"))
      .finally(() => {
        pending = false;
      });
  };

  return {
    field,
    publish,
    start(): void {
      publishQuietly();
      timer = setInterval(publishQuietly, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await deps.redis.hdel(key, field).catch(() => {});
    },
  };
}
