import { createBatchRecords, createGenerationRecords, GENERATE_IMAGE_QUEUE, type Logger, type ModelCatalog, type WebhookEmitter, type RedisClient } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import type { WorkerConfig } from "../config.js";
import type { WorkerMetrics } from "../metrics.js";
import type { QueueHandles } from "../queues/queue-handles.js";
import type { WorkerRegistration } from "../queues/worker-registry.js";
import type { UpstreamRouter } from "../upstreams/router.js";
import { createGenerateImage, parseGenerateImageJob } from "./generate-image.js";
import { withOutcomeRecording } from "./record-outcome.js";
import { createPartialPublisher } from "../streaming/partials.js";

export interface GenerationsDeps {
  config: Pick<WorkerConfig, "QUEUE_PREFIX" | "WORKER_CONCURRENCY" | "UPSTREAM_RECOVERY_WAIT_MS">;
  connection: RedisClient;
  catalog: ModelCatalog;
  router: UpstreamRouter;
  store: ImageStore;
  metrics: WorkerMetrics;
  queues: Pick<QueueHandles, "batches">;
  webhooks: WebhookEmitter;
  log: Logger;
}

/**
 * The generate-image Worker: each job's payload is read once, then the
 * generation runs with its outcome recorded where it must be kept (the
 * generation record of retained work, the line of a batch).
 */
export function composeGenerations(deps: GenerationsDeps): WorkerRegistration {
  const { config, connection, log } = deps;
  const generate = createGenerateImage({
    catalog: deps.catalog,
    router: deps.router,
    store: deps.store,
    metrics: deps.metrics,
    log,
    recoveryWaitMs: config.UPSTREAM_RECOVERY_WAIT_MS,
    partials: createPartialPublisher(connection, config.QUEUE_PREFIX),
  });
  const recorded = withOutcomeRecording(generate, {
    generations: createGenerationRecords(connection, config.QUEUE_PREFIX),
    batches: createBatchRecords(connection, config.QUEUE_PREFIX),
    batchesQueue: deps.queues.batches,
    webhooks: deps.webhooks,
    log,
  });
  return {
    queue: GENERATE_IMAGE_QUEUE,
    processor: async (job, token) => {
      const payload = parseGenerateImageJob(job, log);
      const workspace = { workspace: payload.workspaceId };
      deps.metrics.workspaceQueueWaitSeconds.observe({ ...workspace, kind: payload.kind }, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
      deps.metrics.workspaceRunningJobs.inc(workspace);
      try {
        return await recorded(job, payload, token);
      } finally {
        deps.metrics.workspaceRunningJobs.dec(workspace);
      }
    },
    concurrency: config.WORKER_CONCURRENCY,
    // A job whose worker died twice is failed instead of looping forever.
    maxStalledCount: 2,
  };
}
