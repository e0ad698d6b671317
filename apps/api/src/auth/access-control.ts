import { workspaceKeys, type Logger, type ModelCatalog } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import type { ApiConfig } from "../config.js";
import type { ApiMetrics } from "../metrics.js";
import { createCatalogViews } from "../workspaces/catalog-view.js";
import { createWorkspaceStore } from "../workspaces/store.js";
import { createStaticKeyMatcher } from "./api-keys.js";
import { createAuthFailureLimiter } from "./auth-failures.js";
import { createAuthenticator } from "./authenticator.js";
import { listenForInvalidations } from "./invalidations.js";

/**
 * The composition root of authentication: the workspace store, the one
 * per-address failed-authentication limiter (shared by API keys, the admin
 * API and the queue UI) and the authenticator. `start` subscribes to key
 * invalidations; call it once Redis is connected, before listening.
 */
export function createAccessControl(deps: {
  config: ApiConfig;
  /** The fail-fast producer connection. */
  redis: RedisClient;
  /** A connection of its own, for pub/sub. */
  subscriber: RedisClient;
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

  return {
    store,
    failures,
    authenticator,
    async start(): Promise<void> {
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
