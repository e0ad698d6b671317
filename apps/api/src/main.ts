import { createServer } from "node:http";
import { createLogger, createRedisConnection, exitGracefullyOnSignals, GENERATE_IMAGE_QUEUE, loadModelCatalog } from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { Queue, QueueEvents } from "bullmq";
import { createApp } from "./app.js";
import { createStaticApiKeyVerifier } from "./auth/api-keys.js";
import { loadApiConfig } from "./config.js";
import { createCompletionHub } from "./generations/completion-hub.js";
import { createGenerationService } from "./generations/generation-service.js";
import { createApiMetrics } from "./metrics.js";
import { createRedisRateLimiter, noRateLimit } from "./rate-limit.js";
import { createHttpServer, listen } from "./server.js";

async function main(): Promise<void> {
  const config = loadApiConfig(process.env);
  const log = createLogger({ name: "api", level: config.LOG_LEVEL });
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createApiMetrics();
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
  const queue = new Queue(GENERATE_IMAGE_QUEUE, { connection: producer, prefix: config.QUEUE_PREFIX });
  queue.on("error", (error) => log.warn({ err: error.message }, "queue error"));
  const events = new QueueEvents(GENERATE_IMAGE_QUEUE, { connection: eventsConnection, prefix: config.QUEUE_PREFIX, autorun: false });
  events.on("error", (error) => log.warn({ err: error.message }, "queue events error"));
  const hub = createCompletionHub(events, (waiting) => metrics.syncWaiters.set(waiting));

  const app = createApp({
    log,
    metrics,
    catalog,
    store,
    generations: createGenerationService({ queue, hub }),
    apiKeys: createStaticApiKeyVerifier({
      plaintext: [...config.API_KEYS, ...(config.BOOTSTRAP_API_KEY ? [config.BOOTSTRAP_API_KEY] : [])],
      sha256Hex: config.API_KEY_SHA256,
    }),
    rateLimiter:
      config.RATE_LIMIT_REQUESTS_PER_MINUTE > 0
        ? createRedisRateLimiter({ redis: producer, requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE, keyPrefix: config.QUEUE_PREFIX })
        : noRateLimit,
    ready: async () => {
      await producer.ping();
      await store.ping();
    },
    settings: {
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
      maxBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      urlSigningSecret: config.URL_SIGNING_SECRET,
    },
  });

  // Results must be heard before the first request is accepted.
  void events.run();
  await events.waitUntilReady();
  await queue.waitUntilReady();

  const metricsServer = createServer((req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    metrics.registry.metrics().then((text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text));
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
      await Promise.allSettled([producer.quit(), eventsConnection.quit()]);
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
