import { BATCHES_QUEUE, createBatchStatusCounts, createQueueDepthReader, WEBHOOKS_QUEUE, workspaceKeys } from "@imagegen/shared";
import { Queue } from "bullmq";
import type { Router } from "express";
import type { Redis } from "ioredis";
import { createAuthFailureLimiter } from "../auth/auth-failures.js";
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
 * batch counts on /metrics, and the queue UI. Handles of its own on the
 * batches and webhooks queues (the generate-image one is main's), on the
 * fail-fast producer connection: a scrape while Redis is away gives up at once.
 */
export function createOperations(deps: { config: ApiConfig; redis: Redis; generateQueue: Queue; metrics: ApiMetrics }) {
  const { config } = deps;
  const options = { connection: deps.redis, prefix: config.QUEUE_PREFIX };
  const queues = [deps.generateQueue, new Queue(BATCHES_QUEUE, options), new Queue(WEBHOOKS_QUEUE, options)];
  deps.metrics.readQueueDepthFrom(createQueueDepthReader({ queues, maxAgeMs: QUEUE_DEPTH_MAX_AGE_MS }));
  deps.metrics.readBatchCountsFrom(createBatchStatusCounts({ redis: deps.redis, prefix: config.QUEUE_PREFIX, maxAgeMs: BATCH_COUNTS_MAX_AGE_MS }));

  let queueUi: Router | undefined;
  if (config.ADMIN_TOKEN) {
    // The same per-address failure counts as API keys and the admin API.
    const failures = createAuthFailureLimiter({
      redis: deps.redis,
      keyPrefix: workspaceKeys(config.QUEUE_PREFIX).authFailuresPrefix(),
      failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
    });
    queueUi = queueUiRouter({ queues, adminToken: config.ADMIN_TOKEN, failures });
  }
  return {
    /** The /admin/queues router, or undefined without ADMIN_TOKEN. */
    queueUi,
    async close(): Promise<void> {
      await Promise.all(queues.slice(1).map((queue) => queue.close()));
    },
  };
}
