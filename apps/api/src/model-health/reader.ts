import { isReportFresh, modelHealthReportSchema, parseJsonAs, workspaceKeys, type ModelCatalog, type ModelHealth, type ModelHealthReport, type RedisClient } from "@imagegen/shared";

/** Reports this old are from workers long gone: removed when seen. */
const FORGET_AFTER_MS = 3600_000;

/**
 * Model health as the workers last published it (see the worker's
 * publish-model-health): a model is healthy when any live worker has one of
 * its upstreams in rotation, unhealthy when live workers report none, and
 * unknown when no live worker reported it. One HGETALL per call.
 */
export function createModelHealthReader(deps: { redis: RedisClient; prefix: string; nowMs?: () => number }) {
  const key = workspaceKeys(deps.prefix).modelHealth();
  const now = deps.nowMs ?? Date.now;

  async function freshReports(nowMs: number): Promise<ModelHealthReport[]> {
    const fields = await deps.redis.hgetall(key);
    const fresh: ModelHealthReport[] = [];
    const forgotten: string[] = [];
    for (const [field, text] of Object.entries(fields)) {
      const report = parseJsonAs(modelHealthReportSchema, text);
      if (!report || nowMs - report.at > FORGET_AFTER_MS) forgotten.push(field);
      else if (isReportFresh(report, nowMs)) fresh.push(report);
    }
    if (forgotten.length > 0) await deps.redis.hdel(key, ...forgotten).catch(() => {});
    return fresh;
  }

  return {
    async forCatalog(catalog: ModelCatalog): Promise<ModelHealth[]> {
      const nowMs = now();
      const reports = await freshReports(nowMs);
      return catalog.models.map((card): ModelHealth => {
        const seen = reports.filter((report) => Object.hasOwn(report.models, card.id));
        if (seen.length === 0) return { object: "model.health", model: card.id, status: "unknown", healthy_upstreams: 0, reported_at: null };
        const healthy = Math.max(...seen.map((report) => report.models[card.id] ?? 0));
        const reportedAt = Math.floor(Math.max(...seen.map((report) => report.at)) / 1000);
        return { object: "model.health", model: card.id, status: healthy > 0 ? "healthy" : "unhealthy", healthy_upstreams: healthy, reported_at: reportedAt };
      });
    },
  };
}
export type ModelHealthReader = ReturnType<typeof createModelHealthReader>;
