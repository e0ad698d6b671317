import { createLogger, createRedisConnection, exitGracefullyOnSignals, GENERATE_IMAGE_QUEUE, loadModelCatalog } from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { Worker } from "bullmq";
import { loadWorkerConfig } from "./config.js";
import { createHealthServer, listen } from "./health-server.js";
import { createWorkerMetrics } from "./metrics.js";
import { createGenerateImageProcessor } from "./processors/generate-image.js";
import { createUpstreamRouter } from "./upstreams/router.js";

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const log = createLogger({ name: "worker", level: config.LOG_LEVEL });
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createWorkerMetrics();
  const store = createImageStore(config);
  const router = createUpstreamRouter({ catalog, env: process.env, metrics });
  const connection = createRedisConnection(config.REDIS_URL, "consumer");
  connection.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));

  const worker = new Worker(GENERATE_IMAGE_QUEUE, createGenerateImageProcessor({ catalog, router, store, metrics, log }), {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    // A job whose worker died twice is failed instead of looping forever.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("error", (error) => log.error({ err: error }, "worker error"));
  worker.on("stalled", (jobId) => log.warn({ jobId }, "job stalled: its worker stopped renewing the lock; it will run again"));

  metrics.readUpstreamUsageFrom(router.usage);

  const health = createHealthServer({
    registry: metrics.registry,
    ready: async () => {
      await connection.ping();
      await store.ping();
      if (!worker.isRunning()) throw new Error("worker is not running");
    },
  });
  const metricsPort = await listen(health, config.METRICS_PORT, config.METRICS_HOST);
  await worker.waitUntilReady();
  void worker.run();
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
      await worker.close();
      await router.close();
      health.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
