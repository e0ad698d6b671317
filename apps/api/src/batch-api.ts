import {
  BATCHES_QUEUE,
  createBatchRecords,
  createFileRecords,
  createGenerationRecords,
  createIdempotency,
  createWebhookEmitter,
  WEBHOOKS_QUEUE,
  type GenerationRecords,
  type Idempotency,
} from "@imagegen/shared";
import { createFileStore, type ImageStore } from "@imagegen/storage";
import { Queue } from "bullmq";
import { Router } from "express";
import type { Redis } from "ioredis";
import type { ApiConfig } from "./config.js";
import { createGenerationJobs, type GenerationJobs } from "./generations/jobs.js";
import { batchesRouter } from "./routes/batches.js";
import { filesRouter } from "./routes/files.js";

/**
 * Everything behind work that callers poll: async generation jobs, the Files
 * and Batches API and idempotency keys. Built once in main.ts.
 */
export interface BatchApi {
  router: Router;
  generationRecords: GenerationRecords;
  retained: { jobs: GenerationJobs; records: GenerationRecords; idempotency: Idempotency; asyncJobTtlMs: number };
  close(): Promise<void>;
}

export function createBatchApi(deps: { config: ApiConfig; redis: Redis; generateQueue: Queue; store: ImageStore }): BatchApi {
  const { config, redis } = deps;
  const queueOptions = { connection: redis, prefix: config.QUEUE_PREFIX };
  const batchesQueue = new Queue(BATCHES_QUEUE, queueOptions);
  const webhooksQueue = new Queue(WEBHOOKS_QUEUE, queueOptions);
  const generationRecords = createGenerationRecords(redis, config.QUEUE_PREFIX);
  const batches = createBatchRecords(redis, config.QUEUE_PREFIX);
  const files = createFileRecords(redis, config.QUEUE_PREFIX);
  const idempotency = createIdempotency(redis, config.QUEUE_PREFIX);
  const webhooks = createWebhookEmitter({ queue: webhooksQueue, generations: generationRecords, batches });
  const jobs = createGenerationJobs({
    records: generationRecords,
    queue: deps.generateQueue,
    redis,
    store: deps.store,
    webhooks,
    urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
  });

  const router = Router();
  router.use(
    filesRouter({
      files,
      fileStore: createFileStore(config),
      imageStore: deps.store,
      idempotency,
      maxFileBytes: config.MAX_FILE_BYTES,
      uploadTmpDir: config.UPLOAD_TMP_DIR,
      urlTtlSeconds: config.IMAGE_URL_TTL_SECONDS,
    }),
  );
  router.use(
    batchesRouter({
      batches,
      files,
      batchesQueue,
      idempotency,
      maxBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      completionWindowOverrideSeconds: config.BATCH_COMPLETION_WINDOW_OVERRIDE_SECONDS,
    }),
  );

  return {
    router,
    generationRecords,
    retained: { jobs, records: generationRecords, idempotency, asyncJobTtlMs: config.ASYNC_JOB_TTL_SECONDS * 1000 },
    async close() {
      await Promise.all([batchesQueue.close(), webhooksQueue.close()]);
    },
  };
}
