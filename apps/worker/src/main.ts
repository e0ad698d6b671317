import {
  assertRedisTopology,
  createLogger,
  createDispatcher,
  createReadiness,
  createRedisConnection,
  exitGracefullyOnSignals,
  fairShareKeys,
  GENERATE_IMAGE_QUEUE,
  loadModelCatalog,
  newProcessId,
  operationsKeys,
  redisKeyspaceCheck,
  startTelemetry,
} from "@imagegen/shared";
import { createImageStore } from "@imagegen/storage";
import { composeBatches } from "./batches/compose.js";
import { loadWorkerConfig } from "./config.js";
import { createHealthServer, listen } from "./health-server.js";
import { createWorkerMetrics } from "./metrics.js";
import { createWorkerHeartbeat } from "./operations/heartbeat.js";
import { modelUpstreamHealth } from "./operations/model-health.js";
import { createModelHealthPublisher } from "./operations/publish-model-health.js";
import { composeGenerations } from "./processors/compose.js";
import { createPrefetchGovernor } from "./queues/prefetch-governor.js";
import { createQueueHandles } from "./queues/queue-handles.js";
import { createWorkerRegistry } from "./queues/worker-registry.js";
import { createGlobalSlots } from "./upstreams/global-slots.js";
import { createUpstreamRouter } from "./upstreams/router.js";
import { composeWebhooks } from "./webhooks/compose.js";

/** How often a worker re-reads the free GPU slots when no slot was freed meanwhile. */
const PREFETCH_INTERVAL_MS = 500;

/** A worker's capacity report outlives a few missed ticks, not a dead worker. */
const FAIR_SHARE_REPORT_TTL_MS = 5000;

async function main(): Promise<void> {
  // First, so every span below has a provider; off unless OTEL_* asks for it.
  const telemetry = await startTelemetry("imagegen-worker", process.env);
  const config = loadWorkerConfig(process.env);
  const log = createLogger({ name: "worker", level: config.LOG_LEVEL });
  const processId = newProcessId();
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  const metrics = createWorkerMetrics({ enabled: config.METRICS_ENABLED });
  const store = createImageStore(config);
  const connection = createRedisConnection(config, "consumer");
  // Pub/sub (freed GPU slots) needs a connection of its own.
  const subscriber = createRedisConnection(config, "consumer");
  for (const redis of [connection, subscriber]) redis.on("error", (error) => log.warn({ err: error.message }, "redis connection error"));
  const globalSlots =
    config.GPU_SLOTS_SCOPE === "global"
      ? createGlobalSlots({ redis: connection, subscriber, prefix: config.QUEUE_PREFIX, leaseMs: config.GPU_SLOT_LEASE_MS, log })
      : undefined;
  const router = createUpstreamRouter({ catalog, env: process.env, metrics, log, ...(globalSlots ? { globalSlots } : {}) });

  const queues = createQueueHandles({ connection, prefix: config.QUEUE_PREFIX, log });
  const workers = createWorkerRegistry({
    connection,
    prefix: config.QUEUE_PREFIX,
    lockDurationMs: config.LOCK_DURATION_MS,
    stalledIntervalMs: config.STALLED_INTERVAL_MS,
    telemetry: telemetry.bullmq,
    metrics,
    log,
  });
  const webhooks = composeWebhooks({ config, connection, queues, log });
  workers.register(webhooks.registration);
  // Releases jobs held for fair sharing: after each job here, on each governor tick, and when a batch's lines arrive.
  const dispatcher = createDispatcher(queues.fairShare, log);
  workers.register(composeBatches({ config, connection, catalog, queues, dispatcher, webhooks: webhooks.emitter, log }));
  const generateWorker = workers.register(composeGenerations({ config, connection, catalog, router, store, metrics, queues, webhooks: webhooks.emitter, log }));
  // After each job, but only while some workspace holds work: the held channel says when one starts to.
  generateWorker.on("completed", dispatcher.kickIfHeld);
  generateWorker.on("failed", dispatcher.kickIfHeld);
  const heldChannel = fairShareKeys(queues.generateImage.opts.prefix!).heldChannel;
  subscriber.on("message", (channel: string) => {
    if (channel === heldChannel) dispatcher.heldSignal();
  });
  // A reconnect may have missed the word: assume work is held until a dispatch says otherwise.
  subscriber.on("ready", dispatcher.heldSignal);
  void subscriber.subscribe(heldChannel).catch((error: unknown) => log.warn({ err: error }, "could not subscribe to held work; workers dispatch on their ticks"));
  const upstreamSlots = router.usage().map((upstream) => ({ name: upstream.upstream, cap: upstream.capacity }));
  const gpuSlots = upstreamSlots.reduce((sum, upstream) => sum + upstream.cap, 0);
  const prefetch = createPrefetchGovernor({
    worker: generateWorker,
    workerId: processId,
    maxConcurrency: config.WORKER_CONCURRENCY,
    running: () => workers.active(GENERATE_IMAGE_QUEUE),
    waitingForSlot: router.waitingForSlot,
    freeSlots: globalSlots
      ? () => globalSlots.free(upstreamSlots)
      : async () => router.usage().reduce((free, upstream) => free + Math.max(0, upstream.capacity - upstream.inFlight), 0),
    redis: connection,
    prefix: config.QUEUE_PREFIX,
    intervalMs: PREFETCH_INTERVAL_MS,
    log,
    onTick: async () => {
      // What this worker can run, for the dispatchers' room; with global slots the fleet shares one ceiling.
      await queues.fairShare.reportCapacity(
        processId,
        { own: Math.min(config.WORKER_CONCURRENCY, gpuSlots), ceiling: globalSlots ? gpuSlots : undefined },
        FAIR_SHARE_REPORT_TTL_MS,
      );
      dispatcher.kick();
    },
  });
  globalSlots?.onFreed(prefetch.poke);

  metrics.readUpstreamUsageFrom(router.usage);
  metrics.readJobsWaitingForGpuFrom(router.waitingForSlot);
  metrics.readModelHealthFrom(() => modelUpstreamHealth(catalog, router.usage()));
  router.start();
  const healthPublisher = createModelHealthPublisher({
    redis: connection,
    prefix: config.QUEUE_PREFIX,
    intervalMs: config.MODEL_HEALTH_INTERVAL_MS,
    report: () => modelUpstreamHealth(catalog, router.usage()),
    log,
  });

  const health = createHealthServer({
    registry: config.METRICS_ENABLED ? metrics.registry : undefined,
    metricsToken: config.METRICS_TOKEN,
    ready: createReadiness([
      ["redis", redisKeyspaceCheck(connection, operationsKeys(config.QUEUE_PREFIX).readinessProbe(processId))],
      ["storage", () => store.ping()],
      [
        "worker",
        async () => {
          if (!workers.isRunning()) throw new Error("not running");
          // Probes and circuit breakers already track every upstream; reading their verdict costs nothing.
          if (!router.usage().some((upstream) => upstream.healthy)) throw new Error("no upstream is healthy");
        },
      ],
    ]),
  });
  const metricsPort = await listen(health, config.METRICS_PORT, config.METRICS_HOST);
  await assertRedisTopology(connection);
  await prefetch.start();
  await workers.start();
  const heartbeat = createWorkerHeartbeat({ redis: connection, prefix: config.QUEUE_PREFIX, workerId: processId, log });
  await heartbeat.start();
  healthPublisher.start();
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
      await heartbeat.stop();
      await prefetch.stop();
      await Promise.all([workers.close(), healthPublisher.stop()]);
      await dispatcher.idle();
      await queues.close();
      await router.close();
      await globalSlots?.close();
      await store.close();
      health.close();
      await connection.quit().catch(() => connection.disconnect());
      await subscriber.quit().catch(() => subscriber.disconnect());
      await telemetry.shutdown().catch(() => {});
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
