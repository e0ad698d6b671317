import { createServer } from "node:http";
import {
  createLogger,
  createRedisConnection,
  exitGracefullyOnSignals,
  GENERATE_IMAGE_QUEUE,
  handleMetricsRequest,
  loadModelCatalog,
  startTelemetry,
} from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { Queue, QueueEvents } from "bullmq";
import { createApp } from "./app.js";
import { createAccessControl } from "./auth/access-control.js";
import { loadApiConfig } from "./config.js";
import { createCompletionHub } from "./generations/completion-hub.js";
import { createGenerationService } from "./generations/generation-service.js";
import { createBatchApi } from "./batch-api.js";
import { createConsoleApi } from "./console-api.js";
import { createApiMetrics } from "./metrics.js";
import { createOperations } from "./operations/operations.js";
import { createHttpServer, listen } from "./server.js";

async function main(): Promise<void> {
  // First, so every span below has a provider; off unless OTEL_* asks for it.
  const telemetry = await startTelemetry("imagegen-api", process.env);
  const config = loadApiConfig(process.env);
  const log = createLogger({ name: "api", level: config.LOG_LEVEL });
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createApiMetrics({ enabled: config.METRICS_ENABLED });
  const store = createImageStore(
    config,
    config.URL_SIGNING_SECRET ? { publicBaseUrl: config.PUBLIC_BASE_URL, urlSigningSecret: config.URL_SIGNING_SECRET } : undefined,
  );

  // Producer connection fails fast (503) while Redis is away; the event
  // reader waits and resumes from where it stopped.
  const producer = createRedisConnection(config.REDIS_URL, "producer");
  const eventsConnection = createRedisConnection(config.REDIS_URL, "consumer");
  for (const connection of [producer, eventsConnection]) {
    connection.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));
  }
  // With tracing on, bullmq-otel carries the request's trace context in each job to the worker.
  const queue = new Queue(GENERATE_IMAGE_QUEUE, { connection: producer, prefix: config.QUEUE_PREFIX, telemetry: telemetry.bullmq });
  queue.on("error", (error) => log.warn({ err: error.message }, "queue error"));
  const events = new QueueEvents(GENERATE_IMAGE_QUEUE, { connection: eventsConnection, prefix: config.QUEUE_PREFIX, autorun: false });
  events.on("error", (error) => log.warn({ err: error.message }, "queue events error"));
  const hub = createCompletionHub(events, (waiting) => metrics.syncWaiters.set(waiting));
  // Pub/sub needs a connection of its own; it waits for Redis like the event reader.
  const accessSubscriber = createRedisConnection(config.REDIS_URL, "consumer");
  accessSubscriber.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));
  const access = createAccessControl({ config, redis: producer, subscriber: accessSubscriber, log, metrics, catalog });

  const batchApi = createBatchApi({ config, redis: producer, generateQueue: queue, store });
  const operations = createOperations({ config, redis: producer, generateQueue: queue, metrics });
  const consoleApi = await createConsoleApi({
    config,
    redis: producer,
    store,
    authenticator: access.authenticator,
    rateLimiter: access.rateLimiter,
    workspaceOperations: access.operations,
  });
  const app = createApp({
    log,
    metrics,
    catalog,
    store,
    generations: createGenerationService({ queue, hub, records: batchApi.generationRecords }),
    retained: batchApi.retained,
    batchApi: batchApi.router,
    authenticator: access.authenticator,
    rateLimiter: access.rateLimiter,
    admin: access.admin,
    queueUi: operations.queueUi,
    console: consoleApi,
    tracing: telemetry.enabled,
    ready: async () => {
      await producer.ping();
      await store.ping();
    },
    settings: {
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
      maxBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      urlSigningSecret: config.URL_SIGNING_SECRET,
      trustProxy: config.TRUST_PROXY,
    },
  });

  // Results must be heard before the first request is accepted.
  void events.run();
  await events.waitUntilReady();
  await queue.waitUntilReady();
  await access.start();

  const metricsServer = createServer((req, res) => {
    const registry = config.METRICS_ENABLED ? metrics.registry : undefined;
    if (!handleMetricsRequest(req, res, { registry, token: config.METRICS_TOKEN })) res.writeHead(404).end();
  });
  const metricsPort = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  const server = createHttpServer(app);
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
      hub.close();
      await events.close();
      await queue.close();
      await batchApi.close();
      await operations.close();
      await Promise.allSettled([producer.quit(), eventsConnection.quit(), accessSubscriber.quit()]);
      await telemetry.shutdown().catch(() => {});
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
