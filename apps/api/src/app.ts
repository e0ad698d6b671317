import { ServiceError, type Logger } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import express, { type Express, type RequestHandler, type Router } from "express";
import type { Authenticator } from "./auth/authenticator.js";
import type { ConsoleApi } from "./console-api.js";
import type { ApiMetrics } from "./metrics.js";
import { authenticate } from "./middleware/authenticate.js";
import { errorHandler } from "./middleware/error-handler.js";
import { requestContext } from "./middleware/request-context.js";
import { traceRequests } from "./middleware/tracing.js";
import { QUEUE_UI_PATH } from "./operations/queue-ui.js";
import { imageFilesRouter } from "./routes/image-files.js";
import { modelsRouter } from "./routes/models.js";

export interface AppDeps {
  log: Logger;
  metrics: ApiMetrics;
  store: ImageStore;
  authenticator: Authenticator;
  /** Routers behind `/v1` authentication, in the order they are tried. */
  v1Routers: readonly Router[];
  /** The admin API, mounted at /admin/v1; undefined when ADMIN_TOKEN is unset. */
  admin: Router | undefined;
  /** bull-board at /admin/queues; undefined when ADMIN_TOKEN is unset. */
  queueUi?: Router | undefined;
  /** The web console and the public API it needs (sessions, keys, usage, model health). */
  console?: ConsoleApi | undefined;
  /** OpenTelemetry server spans per request (OTEL_* set). */
  tracing?: boolean;
  /** Answers 503 when no worker consumes the queue; undefined when REFUSE_WITHOUT_WORKERS=false. */
  requireWorker?: RequestHandler | undefined;
  /** Resolves when Redis and storage answer; rejects with the reason otherwise. */
  ready: () => Promise<void>;
  settings: {
    /** Set when images live on the local filesystem and this API serves them. */
    urlSigningSecret: string | undefined;
    /** Express's `trust proxy`: decides the client address brute-force limits count by. */
    trustProxy: boolean | number | string;
  };
}

/** The HTTP surface. Building it has no side effects; main.ts listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.set("trust proxy", deps.settings.trustProxy);

  app.use(requestContext(deps.log, deps.metrics));
  if (deps.tracing) app.use(traceRequests());
  // No cross-origin access is offered (no CORS headers), so OPTIONS has
  // nothing to say; without this Express answers it with a plain-text list.
  app.options(/.*/, (_req, res) => {
    res.status(204).end();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await deps.ready();
      res.json({ status: "ready" });
    } catch (error) {
      res.status(503).json({ status: "unavailable", reason: (error as Error).message });
    }
  });
  if (deps.store.driver === "fs" && deps.settings.urlSigningSecret) {
    app.use(imageFilesRouter({ store: deps.store, urlSigningSecret: deps.settings.urlSigningSecret }));
  }

  if (deps.admin) app.use("/admin/v1", deps.admin);
  if (deps.queueUi) app.use(QUEUE_UI_PATH, deps.queueUi);
  if (deps.console) app.use(deps.console.beforeAuth);
  app.use("/v1", authenticate(deps.authenticator, deps.console?.sessions));
  if (deps.requireWorker) app.post(["/v1/images/generations", "/v1/images/edits"], deps.requireWorker);
  // Generations first: Express walks every router mounted before the one
  // that matches, and the paths of these routers do not overlap.
  for (const router of deps.v1Routers) app.use(router);
  app.use(modelsRouter());
  if (deps.console) app.use(deps.console.router);

  app.use((req, _res, next) => {
    next(new ServiceError("not_found", `Invalid URL (${req.method} ${req.path})`));
  });
  app.use(errorHandler(deps.metrics, deps.log));
  return app;
}
