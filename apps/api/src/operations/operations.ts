import { cachedRead, createBatchStatusCounts, createQueueDepthReader, readJobsHeldForGpu, type FairShare } from "@imagegen/shared";
import type { Queue } from "bullmq";
import type { Router } from "express";
import type { RedisClient } from "@imagegen/shared";
import type { AuthFailureLimiter } from "../auth/auth-failures.js";
import type { ApiConfig } from "../config.js";
import type { ApiMetrics } from "../metrics.js";
import { queueUiRouter } from "./queue-ui.js";

/** Queue depth is cached this long: a scrape storm costs Redis nothing more. */
const QUEUE_DEPTH_MAX_AGE_MS = 2000;
/**
 * Batch counts walk every kept batch record, so they are refreshed less
 * often: once per Prometheus scrape interval (15 s) at most.
 */
const BATCH_COUNTS_MAX_AGE_MS = 15_000;

/**
 * What operators get from the API besides its own metrics: queue depth and
 * batch counts on /metrics, and the queue UI (undefined without ADMIN_TOKEN).
 * Reads go over the fail-fast producer connection: a scrape while Redis is
 * away gives up at once.
 */
export function createOperations(deps: {
  config: ApiConfig;
  redis: RedisClient;
  queues: readonly Queue[];
  fairShare: Pick<FairShare, "queuedByWorkspace">;
  failures: AuthFailureLimiter;
  metrics: ApiMetrics;
}): {
  queueUi: Router | undefined;
} {
  const { config } = deps;
  deps.metrics.readQueueDepthFrom(createQueueDepthReader({ queues: deps.queues, maxAgeMs: QUEUE_DEPTH_MAX_AGE_MS }));
  deps.metrics.readJobsHeldForGpuFrom(cachedRead(QUEUE_DEPTH_MAX_AGE_MS, () => readJobsHeldForGpu(deps.redis, config.QUEUE_PREFIX)));
  deps.metrics.readQueuedByWorkspaceFrom(cachedRead(QUEUE_DEPTH_MAX_AGE_MS, () => deps.fairShare.queuedByWorkspace()));
  deps.metrics.readBatchCountsFrom(createBatchStatusCounts({ redis: deps.redis, prefix: config.QUEUE_PREFIX, maxAgeMs: BATCH_COUNTS_MAX_AGE_MS }));
  return {
    queueUi: config.ADMIN_TOKEN ? queueUiRouter({ queues: deps.queues, adminToken: config.ADMIN_TOKEN, failures: deps.failures }) : undefined,
  };
}
