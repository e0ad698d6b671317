import { DEFAULT_WORKSPACE, createStaticKeyMatcher } from "./api-keys.js";
import { createAuthFailureLimiter } from "./auth-failures.js";
import { createAuthenticator } from "./authenticator.js";
import { listenForInvalidations } from "./invalidations.js";
import { workspaceKeys, type Logger, type ModelCatalog } from "@imagegen/shared";
import { Router } from "express";
import type { Redis } from "ioredis";
import { authenticateAdmin } from "../admin/authenticate-admin.js";
import { adminRouter } from "../admin/router.js";
import type { ApiConfig } from "../config.js";
import type { ApiMetrics } from "../metrics.js";
import { createRateLimiter } from "../rate-limit.js";
import { createAdminOperations } from "../workspaces/admin-operations.js";
import { createCatalogViews } from "../workspaces/catalog-view.js";
import { createWorkspaceStore } from "../workspaces/store.js";

/**
 * Workspaces, keys, limits and the admin API, built from config: what main.ts
 * hands to createApp. `start` creates the default workspace and subscribes
 * to invalidations; call it once Redis is connected, before listening.
 */
export function createAccessControl(deps: {
  config: ApiConfig;
  /** The fail-fast producer connection. */
  redis: Redis;
  /** A connection of its own, for pub/sub. */
  subscriber: Redis;
  log: Logger;
  metrics: ApiMetrics;
  catalog: ModelCatalog;
}) {
  const { config } = deps;
  const prefix = config.QUEUE_PREFIX;
  const store = createWorkspaceStore({ redis: deps.redis, prefix });
  const failures = createAuthFailureLimiter({
    redis: deps.redis,
    keyPrefix: workspaceKeys(prefix).authFailuresPrefix(),
    failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
  });
  const authenticator = createAuthenticator({
    store,
    staticKeys: createStaticKeyMatcher({
      plaintext: [...config.API_KEYS, ...(config.BOOTSTRAP_API_KEY && config.BOOTSTRAP_API_KEY_ROLE === "member" ? [config.BOOTSTRAP_API_KEY] : [])],
      sha256Hex: config.API_KEY_SHA256,
      adminPlaintext: config.BOOTSTRAP_API_KEY && config.BOOTSTRAP_API_KEY_ROLE === "admin" ? [config.BOOTSTRAP_API_KEY] : [],
    }),
    failures,
    catalogFor: createCatalogViews(deps.catalog),
    cacheTtlMs: config.API_KEY_CACHE_TTL_MS,
    log: deps.log,
    onRefused: () => deps.metrics.rateLimited.inc({ workspace: "unauthenticated", limit: "auth_failures" }),
  });
  const rateLimiter = createRateLimiter({
    redis: deps.redis,
    prefix,
    defaultRequestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE,
    onRefused: ({ workspaceId, limit }) => deps.metrics.rateLimited.inc({ workspace: workspaceId, limit }),
  });
  const operations = createAdminOperations({ store, catalog: deps.catalog, defaultRotationGraceSeconds: config.KEY_ROTATION_GRACE_SECONDS });

  let admin: Router | undefined;
  if (config.ADMIN_TOKEN) {
    admin = Router();
    admin.use(authenticateAdmin({ adminToken: config.ADMIN_TOKEN, failures }));
    admin.use(adminRouter(operations));
  }

  return {
    authenticator,
    rateLimiter,
    /** The /admin/v1 router, or undefined when ADMIN_TOKEN is unset (the admin API then answers 404). */
    admin,
    /** Workspace and key operations, also behind the public key management of admin keys. */
    operations,
    async start(): Promise<void> {
      await operations.ensureDefaultWorkspace(DEFAULT_WORKSPACE, config.DEFAULT_WORKSPACE_WEBHOOK_SECRET);
      await listenForInvalidations({
        subscriber: deps.subscriber,
        prefix,
        log: deps.log,
        onInvalidation: authenticator.invalidate,
        onReconnect: authenticator.clear,
      });
    },
  };
}
