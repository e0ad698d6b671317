import { fileURLToPath } from "node:url";
import type { ImageStore } from "@imagegen/storage";
import { Router } from "express";
import type { RedisClient } from "@imagegen/shared";
import type { Authenticator } from "./auth/authenticator.js";
import type { ApiConfig } from "./config.js";
import { createModelHealthReader } from "./model-health/reader.js";
import type { RateLimiter } from "./rate-limit.js";
import { consoleStaticRouter } from "./routes/console-static.js";
import { keysRouter } from "./routes/keys.js";
import { modelHealthRouter } from "./routes/model-health.js";
import { sessionsRouter, signInRouter } from "./routes/sessions.js";
import { usageRouter } from "./routes/usage.js";
import { createSessionAuthenticator, type SessionAuthenticator } from "./sessions/session-auth.js";
import { createSessionStore } from "./sessions/session-store.js";
import type { AdminOperations } from "./workspaces/admin-operations.js";
import { createWorkspaceKeyOperations } from "./workspaces/workspace-keys.js";

/** Where the console's build lands, relative to this file once built (apps/api/dist → apps/console/dist). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../console/dist", import.meta.url));

/**
 * The web console and the public API it needs beyond generations: console
 * sessions, workspace key management for admin keys, usage and model
 * health. Built once in main.ts; `beforeAuth` is mounted before /v1
 * authentication (sign-in, the console's files), `router` after it.
 */
export interface ConsoleApi {
  beforeAuth: Router;
  sessions: SessionAuthenticator;
  router: Router;
}

export async function createConsoleApi(deps: {
  config: ApiConfig;
  redis: RedisClient;
  store: ImageStore;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  workspaceOperations: AdminOperations;
}): Promise<ConsoleApi> {
  const { config, redis } = deps;
  const sessions = createSessionStore({ redis, prefix: config.QUEUE_PREFIX, ttlSeconds: config.CONSOLE_SESSION_TTL_SECONDS });
  // Image links may point at another origin (S3, or PUBLIC_BASE_URL's host): the CSP must allow exactly that one.
  // (A presigned S3 link is computed locally; filesystem links start with PUBLIC_BASE_URL.)
  const imageOrigin = new URL(deps.store.driver === "fs" ? config.PUBLIC_BASE_URL : await deps.store.signedUrl("images/console-csp-probe.png", 60)).origin;

  const beforeAuth = Router();
  beforeAuth.use(consoleStaticRouter({ distDir: config.CONSOLE_DIR ?? DEFAULT_CONSOLE_DIR, imageOrigins: [imageOrigin] }));
  beforeAuth.use(signInRouter({ authenticator: deps.authenticator, sessions }));

  const router = Router();
  router.use(sessionsRouter({ sessions }));
  router.use(keysRouter(createWorkspaceKeyOperations(deps.workspaceOperations)));
  router.use(usageRouter({ redis, prefix: config.QUEUE_PREFIX, rateLimiter: deps.rateLimiter }));
  router.use(modelHealthRouter(createModelHealthReader({ redis, prefix: config.QUEUE_PREFIX })));

  return { beforeAuth, sessions: createSessionAuthenticator({ sessions, authenticator: deps.authenticator }), router };
}
