import type { BatchRecords, FileRecords, Logger, ModelCatalog, WebhookEmitter } from "@imagegen/shared";
import type { FileStore } from "@imagegen/storage";
import type { Queue } from "bullmq";

/** What the batch steps need, built in compose.ts. */
export interface BatchStepDeps {
  catalog: ModelCatalog;
  batches: BatchRecords;
  files: FileRecords;
  fileStore: FileStore;
  generateQueue: Queue;
  batchesQueue: Queue;
  webhooks: WebhookEmitter;
  log: Logger;
}
