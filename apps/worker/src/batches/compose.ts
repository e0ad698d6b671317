import {
  BATCHES_QUEUE,
  createBatchRecords,
  createFileRecords,
  type Dispatcher,
  type Logger,
  type ModelCatalog,
  type RedisClient,
  type WebhookEmitter,
} from "@imagegen/shared";
import { createFileStore } from "@imagegen/storage";
import type { WorkerConfig } from "../config.js";
import type { QueueHandles } from "../queues/queue-handles.js";
import type { WorkerRegistration } from "../queues/worker-registry.js";
import { createBatchStepProcessor } from "./steps.js";

export interface BatchesDeps {
  config: WorkerConfig;
  connection: RedisClient;
  catalog: ModelCatalog;
  queues: Pick<QueueHandles, "generateImage" | "batches" | "fairShare">;
  /** Releases held jobs when a batch's lines arrive while there is room. */
  dispatcher: Dispatcher;
  webhooks: WebhookEmitter;
  log: Logger;
}

/** The batch steps (ingest, finalize, cancel, expire): their records, file store and Worker. */
export function composeBatches(deps: BatchesDeps): WorkerRegistration {
  const { config, connection } = deps;
  const processor = createBatchStepProcessor({
    catalog: deps.catalog,
    batches: createBatchRecords(connection, config.QUEUE_PREFIX),
    files: createFileRecords(connection, config.QUEUE_PREFIX),
    fileStore: createFileStore(config),
    generateQueue: deps.queues.generateImage,
    fair: {
      queue: deps.queues.generateImage,
      fairShare: config.FAIR_SHARE === "on" ? deps.queues.fairShare : undefined,
      dispatcher: deps.dispatcher,
    },
    lanes: deps.queues.fairShare,
    batchesQueue: deps.queues.batches,
    webhooks: deps.webhooks,
    log: deps.log.child({ queue: BATCHES_QUEUE }),
  });
  return { queue: BATCHES_QUEUE, processor, concurrency: config.BATCH_STEP_CONCURRENCY };
}
