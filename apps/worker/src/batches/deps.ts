import type { BatchRecords, FairEnqueueDeps, FairShare, FileRecords, Logger, ModelCatalog, WebhookEmitter } from "@imagegen/shared";
import type { FileStore } from "@imagegen/storage";
import type { Queue } from "bullmq";

/** What the batch steps need, built in compose.ts. */
export interface BatchStepDeps {
  catalog: ModelCatalog;
  batches: BatchRecords;
  files: FileRecords;
  fileStore: FileStore;
  generateQueue: Queue;
  /** How lines enter the generate-image queue: held in the workspace's batch lane when fair sharing is on. */
  fair: FairEnqueueDeps;
  /** Withdrawn lines leave their lane whether or not fair sharing is on now: lines held before may still wait there. */
  lanes: Pick<FairShare, "withdraw">;
  batchesQueue: Queue;
  webhooks: WebhookEmitter;
  log: Logger;
}
