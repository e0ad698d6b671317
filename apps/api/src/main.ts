import { createServer } from "node:http";
import {
  assertRedisTopology,
  createLogger,
  createReadiness,
  createRedisConnection,
  exitGracefullyOnSignals,
  handleMetricsRequest,
  loadModelCatalog,
  newProcessId,
  operationsKeys,
  redisKeyspaceCheck,
  startTelemetry,
} from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { createAdminApi } from "./admin/admin-api.js";
import { createApp } from "./app.js";
import { createAccessControl } from "./auth/access-control.js";
import { createBatchApi } from "./batch-api.js";
import { createConsoleApi } from "./console-api.js";
import { loadApiConfig } from "./config.js";
import { prepareUploadDir, sweepStaleUploads } from "./files/upload.js";
import { createGenerations } from "./generations/generations.js";
import { createApiMetrics } from "./metrics.js";
import { createOperations } from "./operations/operations.js";
import { createWorkerPresence } from "./operations/worker-presence.js";
import { createQueueHandles } from "./queues.js";
import { createRateLimiter } from "./rate-limit.js";
import { createHttpServer, listen } from "./server.js";

async function main(): Promise<void> {
  // First, so every span below has a provider; off unless OTEL_* asks for it.
  const telemetry = await startTelemetry("imagegen-api", process.env);
  const config = loadApiConfig(process.env);
  const log = createLogger({ name: "api", level: config.LOG_LEVEL });
  const processId = newProcessId();
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createApiMetrics({ enabled: config.METRICS_ENABLED });
  const store = createImageStore(
    config,
    config.URL_SIGNING_SECRET ? { publicBaseUrl: config.PUBLIC_BASE_URL, urlSigningSecret: config.URL_SIGNING_SECRET } : undefined,
  );

  // The producer connection fails fast (503) while Redis is away; the event
  // reader and the pub/sub subscriber wait for it and resume.
  const producer = createRedisConnection(config, "producer");
  const eventsConnection = createRedisConnection(config, "consumer");
  const subscriber = createRedisConnection(config, "consumer");
  for (const connection of [producer, eventsConnection, subscriber]) {
    connection.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));
  }
  const prefix = config.QUEUE_PREFIX;
  const queues = createQueueHandles({ producer, eventsConnection, prefix, telemetry, log });
  const access = createAccessControl({ config, redis: producer, subscriber, log, metrics, catalog });
  const admin = createAdminApi({
    config,
    store: access.store,
    catalog,
    failures: access.failures,
    fairShareWeights: { set: (workspaceId, weight) => queues.fairShare.setWeight(workspaceId, weight) },
  });
  const rateLimiter = createRateLimiter({
    redis: producer,
    prefix,
    defaultRequestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE,
    onRefused: ({ workspaceId, limit }) => metrics.rateLimited.inc({ workspace: workspaceId, limit }),
  });
  const generations = createGenerations({
    redis: producer,
    connectSubscriber: () => createRedisConnection(config, "consumer"),
    prefix,
    queues,
    store,
    rateLimiter,
    metrics,
    log,
    settings: {
      asyncJobTtlMs: config.ASYNC_JOB_TTL_SECONDS * 1000,
      historyPerWorkspace: config.GENERATION_HISTORY_PER_WORKSPACE,
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
      maxBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      editMaxImageBytes: config.EDIT_MAX_IMAGE_BYTES,
      uploadTmpDir: config.UPLOAD_TMP_DIR,
      allowPrivateWebhookTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      fairShare: config.FAIR_SHARE === "on",
    },
  });
  const batchApi = createBatchApi({ config, redis: producer, batchesQueue: queues.batches, store });
  const operations = createOperations({ config, redis: producer, queues: queues.all, fairShare: queues.fairShare, failures: access.failures, metrics });
  const workerPresence = config.REFUSE_WITHOUT_WORKERS ? createWorkerPresence({ redis: producer, prefix }) : undefined;
  const consoleApi = await createConsoleApi({
    config,
    redis: producer,
    store,
    authenticator: access.authenticator,
    rateLimiter,
    workspaceOperations: admin.operations,
  });
  const app = createApp({
    log,
    metrics,
    store,
    authenticator: access.authenticator,
    v1Routers: [generations.router, batchApi],
    admin: admin.router,
    queueUi: operations.queueUi,
    console: consoleApi,
    tracing: telemetry.enabled,
    requireWorker: workerPresence?.requireWorker,
    ready: createReadiness([
      ["redis", redisKeyspaceCheck(producer, operationsKeys(prefix).readinessProbe(processId))],
      ["storage", () => store.ping()],
      ...(workerPresence ? [["workers", workerPresence.check] as const] : []),
    ]),
    settings: { urlSigningSecret: config.URL_SIGNING_SECRET, trustProxy: config.TRUST_PROXY },
  });

  // Results must be heard before the first request is accepted.
  await queues.start();
  await assertRedisTopology(producer);
  await admin.ensureDefaultWorkspace();
  await access.start();

  await prepareUploadDir(config.UPLOAD_TMP_DIR);
  // Far beyond any upload's body deadline: what is older belongs to no live request.
  const swept = await sweepStaleUploads(config.UPLOAD_TMP_DIR, Math.max(3600_000, 2 * config.REQUEST_BODY_TIMEOUT_MS));
  if (swept.length > 0) log.info({ swept: swept.length, dir: config.UPLOAD_TMP_DIR }, "removed uploads a previous run left behind");

  const metricsServer = createServer((req, res) => {
    const registry = config.METRICS_ENABLED ? metrics.registry : undefined;
    if (!handleMetricsRequest(req, res, { registry, token: config.METRICS_TOKEN })) res.writeHead(404).end();
  });
  const metricsPort = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  const server = createHttpServer(app, { bodyTimeoutMs: config.REQUEST_BODY_TIMEOUT_MS });
  const port = await listen(server, config.PORT, config.HOST);
  log.info({ port, metricsPort, models: catalog.models.map((model) => model.id), storage: store.driver }, "api listening");

  exitGracefullyOnSignals({
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    timeoutMessage: "shutdown timed out; closing remaining connections",
    stop: async () => {
      // Refuse new connections, let in-flight requests finish their waits.
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      metricsServer.close();
      await generations.close();
      await queues.close();
      await store.close();
      await Promise.allSettled([producer.quit(), eventsConnection.quit(), subscriber.quit()]);
      await telemetry.shutdown().catch(() => {});
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
