import {
  BATCHES_QUEUE,
  createBatchRecords,
  createFileRecords,
  createGenerationRecords,
  createWebhookEmitter,
  GENERATE_IMAGE_QUEUE,
  WEBHOOKS_QUEUE,
  type Logger,
  type ModelCatalog,
} from "@imagegen/shared";
import { createFileStore } from "@imagegen/storage";
import { Queue, Worker, type WorkerOptions } from "bullmq";
import type { RedisClient } from "@imagegen/shared";
import { createBatchStepProcessor } from "./batches/steps.js";
import type { WorkerConfig } from "./config.js";
import type { RecordOutcomeDeps } from "./processors/record-outcome.js";
import { createWebhookDeliveryProcessor, type WebhookSecrets } from "./webhooks/deliver.js";

/**
 * Everything the worker runs besides image generation itself: the batch steps
 * and webhook deliveries, each on its own queue with its own concurrency, and
 * the records generation jobs report their outcomes to.
 */
export function createBackgroundWork(deps: {
  config: WorkerConfig;
  connection: RedisClient;
  catalog: ModelCatalog;
  secrets: WebhookSecrets;
  log: Logger;
}) {
  const { config, connection, log } = deps;
  const queueOptions = { connection, prefix: config.QUEUE_PREFIX };
  const generateQueue = new Queue(GENERATE_IMAGE_QUEUE, queueOptions);
  const batchesQueue = new Queue(BATCHES_QUEUE, queueOptions);
  const webhooksQueue = new Queue(WEBHOOKS_QUEUE, queueOptions);
  const batches = createBatchRecords(connection, config.QUEUE_PREFIX);
  const generations = createGenerationRecords(connection, config.QUEUE_PREFIX);
  const webhooks = createWebhookEmitter({ queue: webhooksQueue, generations, batches });

  const workerOptions = (concurrency: number): WorkerOptions => ({
    ...queueOptions,
    concurrency,
    lockDuration: config.LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    autorun: false,
  });
  const workers = [
    new Worker(
      BATCHES_QUEUE,
      createBatchStepProcessor({
        catalog: deps.catalog,
        batches,
        files: createFileRecords(connection, config.QUEUE_PREFIX),
        fileStore: createFileStore(config),
        generateQueue,
        batchesQueue,
        webhooks,
        log: log.child({ queue: BATCHES_QUEUE }),
      }),
      workerOptions(config.BATCH_STEP_CONCURRENCY),
    ),
    new Worker(
      WEBHOOKS_QUEUE,
      createWebhookDeliveryProcessor({
        secrets: deps.secrets,
        allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        log: log.child({ queue: WEBHOOKS_QUEUE }),
      }),
      workerOptions(config.WEBHOOK_CONCURRENCY),
    ),
  ];
  for (const worker of workers) worker.on("error", (error) => log.error({ err: error, queue: worker.name }, "worker error"));

  const outcomeDeps: RecordOutcomeDeps = { generations, batches, batchesQueue, webhooks, log };
  return {
    workers,
    outcomeDeps,
    async start() {
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      for (const worker of workers) void worker.run();
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all([generateQueue.close(), batchesQueue.close(), webhooksQueue.close()]);
    },
  };
}
