import { createLogger, createRedisConnection, exitGracefullyOnSignals, GENERATE_IMAGE_QUEUE, loadModelCatalog, startTelemetry } from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { Worker } from "bullmq";
import { loadWorkerConfig } from "./config.js";
import { createHealthServer, listen } from "./health-server.js";
import { createWorkerMetrics } from "./metrics.js";
import { modelUpstreamHealth } from "./operations/model-health.js";
import { createBackgroundWork } from "./background-work.js";
import { createGenerateImageProcessor } from "./processors/generate-image.js";
import { createPartialPublisher } from "./streaming/partials.js";
import { withOutcomeRecording } from "./processors/record-outcome.js";
import { createWorkspaceWebhookSecrets } from "./webhooks/secrets.js";
import { createUpstreamRouter } from "./upstreams/router.js";

async function main(): Promise<void> {
  // First, so every span below has a provider; off unless OTEL_* asks for it.
  const telemetry = await startTelemetry("imagegen-worker", process.env);
  const config = loadWorkerConfig(process.env);
  const log = createLogger({ name: "worker", level: config.LOG_LEVEL });
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createWorkerMetrics({ enabled: config.METRICS_ENABLED });
  const store = createImageStore(config);
  const router = createUpstreamRouter({ catalog, env: process.env, metrics, log });
  const connection = createRedisConnection(config.REDIS_URL, "consumer");
  connection.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));

  const background = createBackgroundWork({
    config,
    connection,
    catalog,
    secrets: createWorkspaceWebhookSecrets({ redis: connection, prefix: config.QUEUE_PREFIX, fallback: config.WEBHOOK_SIGNING_SECRET }),
    log,
  });
  const processor = withOutcomeRecording(createGenerateImageProcessor({
      catalog,
      router,
      store,
      metrics,
      log,
      recoveryWaitMs: config.UPSTREAM_RECOVERY_WAIT_MS,
      partials: createPartialPublisher(connection, config.QUEUE_PREFIX),
    }), background.outcomeDeps);
  const worker = new Worker(GENERATE_IMAGE_QUEUE, processor, {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    // A job whose worker died twice is failed instead of looping forever.
    maxStalledCount: 2,
    autorun: false,
    // With tracing on, each job runs in a consumer span whose parent is the API request that queued it.
    telemetry: telemetry.bullmq,
  });
  worker.on("error", (error) => log.error({ err: error }, "worker error"));
  worker.on("stalled", (jobId) => log.warn({ jobId }, "job stalled: its worker stopped renewing the lock; it will run again"));

  metrics.readUpstreamUsageFrom(router.usage);
  metrics.readModelHealthFrom(() => modelUpstreamHealth(catalog, router.usage()));
  router.start();

  const health = createHealthServer({
    registry: config.METRICS_ENABLED ? metrics.registry : undefined,
    metricsToken: config.METRICS_TOKEN,
    ready: async () => {
      await connection.ping();
      await store.ping();
      if (!worker.isRunning()) throw new Error("worker is not running");
      // Probes and circuit breakers already track every upstream; reading their verdict costs nothing.
      if (!router.usage().some((upstream) => upstream.healthy)) throw new Error("no upstream is healthy");
    },
  });
  const metricsPort = await listen(health, config.METRICS_PORT, config.METRICS_HOST);
  await worker.waitUntilReady();
  void worker.run();
  await background.start();
  log.info(
    { metricsPort, concurrency: config.WORKER_CONCURRENCY, models: catalog.models.map((model) => model.id), storage: store.driver },
    "worker started",
  );

  exitGracefullyOnSignals({
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // Jobs still running keep their locks until they lapse; BullMQ's
    // stalled-job check then hands them to another worker.
    timeoutMessage: "shutdown timed out; in-flight jobs will be picked up by another worker",
    stop: async () => {
      await Promise.all([worker.close(), background.close()]);
      await router.close();
      health.close();
      await connection.quit().catch(() => connection.disconnect());
      await telemetry.shutdown().catch(() => {});
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
