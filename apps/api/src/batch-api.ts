import { createBatchRecords, createFileRecords, createIdempotency } from "@imagegen/shared";
import { createFileStore, type ImageStore } from "@imagegen/storage";
import type { Queue } from "bullmq";
import { Router } from "express";
import type { RedisClient } from "@imagegen/shared";
import type { ApiConfig } from "./config.js";
import { batchesRouter } from "./routes/batches.js";
import { filesRouter } from "./routes/files.js";
import { createWebhookTargetCheck } from "./webhooks/webhook-target.js";

/**
 * The composition root of OpenAI's Files and Batches API: their records and
 * routers (authenticated like /v1). Built once in main.ts.
 */
export function createBatchApi(deps: { config: ApiConfig; redis: RedisClient; batchesQueue: Queue; store: ImageStore }): Router {
  const { config, redis } = deps;
  const files = createFileRecords(redis, config.QUEUE_PREFIX);
  const idempotency = createIdempotency(redis, config.QUEUE_PREFIX);
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
      batches: createBatchRecords(redis, config.QUEUE_PREFIX),
      files,
      batchesQueue: deps.batchesQueue,
      idempotency,
      maxBodyBytes: config.MAX_REQUEST_BODY_BYTES,
      completionWindowOverrideSeconds: config.BATCH_COMPLETION_WINDOW_OVERRIDE_SECONDS,
      checkWebhookTarget: createWebhookTargetCheck({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS }),
    }),
  );
  return router;
}
