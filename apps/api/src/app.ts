import { ServiceError, type Logger, type ModelCatalog } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import express, { type Express } from "express";
import type { ApiKeyVerifier } from "./auth/api-keys.js";
import type { GenerationService } from "./generations/generation-service.js";
import type { ApiMetrics } from "./metrics.js";
import { authenticate } from "./middleware/authenticate.js";
import { errorHandler } from "./middleware/error-handler.js";
import { requestContext } from "./middleware/request-context.js";
import type { RateLimiter } from "./rate-limit.js";
import { imageFilesRouter } from "./routes/image-files.js";
import { imagesGenerationsRouter } from "./routes/images-generations.js";
import { modelsRouter } from "./routes/models.js";

export interface AppDeps {
  log: Logger;
  metrics: ApiMetrics;
  catalog: ModelCatalog;
  store: ImageStore;
  generations: GenerationService;
  apiKeys: ApiKeyVerifier;
  rateLimiter: RateLimiter;
  /** Resolves when Redis and storage answer; rejects with the reason otherwise. */
  ready: () => Promise<void>;
  settings: {
    urlTtlSeconds: number;
    maxBodyBytes: number;
    /** Set when images live on the local filesystem and this API serves them. */
    urlSigningSecret: string | undefined;
  };
}

/** The HTTP surface. Building it has no side effects; main.ts listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");

  app.use(requestContext(deps.log, deps.metrics));

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

  app.use("/v1", authenticate(deps.apiKeys));
  app.use(modelsRouter(deps.catalog));
  app.use(
    imagesGenerationsRouter({
      catalog: deps.catalog,
      generations: deps.generations,
      store: deps.store,
      rateLimiter: deps.rateLimiter,
      urlTtlSeconds: deps.settings.urlTtlSeconds,
      maxBodyBytes: deps.settings.maxBodyBytes,
    }),
  );

  app.use((req, _res, next) => {
    next(new ServiceError("not_found", `Invalid URL (${req.method} ${req.path})`));
  });
  app.use(errorHandler(deps.metrics, deps.log));
  return app;
}
