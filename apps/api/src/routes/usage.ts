import { ServiceError, type UsageObject, type RedisClient } from "@imagegen/shared";
import { Router } from "express";
import { principalOf } from "../middleware/locals.js";
import { requireRole } from "../auth/require-role.js";
import type { RateLimiter } from "../rate-limit.js";
import { readDailyImages } from "../usage/daily-images.js";

/** GET /v1/usage (admin keys): images per day for 30 days, and each limit with what is left. */
export function usageRouter(deps: { redis: RedisClient; prefix: string; rateLimiter: RateLimiter; nowMs?: () => number }): Router {
  const router = Router();
  const now = deps.nowMs ?? Date.now;
  router.get("/v1/usage", requireRole("admin"), async (_req, res) => {
    const principal = principalOf(res);
    const [days, limits] = await Promise.all([
      readDailyImages(deps.redis, deps.prefix, principal.workspaceId, now()),
      deps.rateLimiter.usage({
        workspaceId: principal.workspaceId,
        workspaceLimits: principal.workspaceLimits,
        keyId: principal.keyId,
        keyLimits: principal.keyLimits,
      }),
    ]).catch((error: unknown) => {
      throw new ServiceError("service_unavailable", "Usage is unavailable. Retry with backoff.", { cause: error });
    });
    const usage: UsageObject = { object: "usage", workspace_id: principal.workspaceId, days, limits };
    res.json(usage);
  });
  return router;
}
