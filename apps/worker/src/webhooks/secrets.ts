import { readWorkspace } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import type { WebhookSecrets } from "./deliver.js";

/** A workspace's secret changes only when an operator rotates it; a short cache spares a read per delivery. */
const CACHE_MS = 30_000;

/**
 * Each workspace signs with its own secret (created with the workspace, shown
 * by the admin API). `fallback` (WEBHOOK_SIGNING_SECRET) serves workspaces
 * stored before secrets existed.
 */
export function createWorkspaceWebhookSecrets(deps: { redis: RedisClient; prefix: string; fallback: string | undefined }): WebhookSecrets {
  const cache = new Map<string, { secret: string; untilMs: number }>();
  return {
    async secretFor(workspaceId) {
      const cached = cache.get(workspaceId);
      if (cached && cached.untilMs > Date.now()) return cached.secret;
      const secret = (await readWorkspace(deps.redis, deps.prefix, workspaceId))?.webhook_secret || deps.fallback;
      if (!secret) throw new Error(`workspace ${workspaceId} has no webhook signing secret`);
      cache.set(workspaceId, { secret, untilMs: Date.now() + CACHE_MS });
      return secret;
    },
  };
}
