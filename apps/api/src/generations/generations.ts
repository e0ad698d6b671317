import {
  createBatchRecords,
  createDispatcher,
  createGenerationHistory,
  createGenerationRecords,
  createIdempotency,
  createWebhookEmitter,
  type Logger,
} from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import type { RedisClient } from "@imagegen/shared";
import type { ApiMetrics } from "../metrics.js";
import type { QueueHandles } from "../queues.js";
import type { RateLimiter } from "../rate-limit.js";
import { Router } from "express";
import { imagesEditsRouter } from "../routes/images-edits.js";
import { createPartialRelay } from "../streaming/partial-relay.js";
import { imagesGenerationsRouter } from "../routes/images-generations.js";
import { createWebhookTargetCheck } from "../webhooks/webhook-target.js";
import { createCompletionHub } from "./completion-hub.js";
import { createGenerationService } from "./generation-service.js";
import { bullGenerationJobQueue } from "./job-queue.js";
import { createHistoryRecorder } from "./history-recorder.js";
import { createJobList } from "./job-list.js";
import { createGenerationJobs } from "./jobs.js";

/**
 * The composition root of image generation: its records, idempotency keys,
 * polled jobs, the completion hub and the service that decides how each
 * request runs, and the router that serves them. main.ts builds it once.
 */
export function createGenerations(deps: {
  /** The fail-fast producer connection. */
  redis: RedisClient;
  /** Opens a connection for pub/sub (streamed partial images), when the first stream needs it. */
  connectSubscriber: () => RedisClient;
  prefix: string;
  queues: QueueHandles;
  store: ImageStore;
  rateLimiter: RateLimiter;
  metrics: ApiMetrics;
  log: Logger;
  settings: {
    /** How long an async job may wait in the queue before it expires. */
    asyncJobTtlMs: number;
    /** How many recent generations each workspace's list keeps. */
    historyPerWorkspace: number;
    urlTtlSeconds: number;
    maxBodyBytes: number;
    /** Largest single input image or mask of an edit. */
    editMaxImageBytes: number;
    /** Where edit uploads are spooled (UPLOAD_TMP_DIR). */
    uploadTmpDir: string;
    /** WEBHOOK_ALLOW_PRIVATE_TARGETS: may webhook_url point at private and loopback addresses. */
    allowPrivateWebhookTargets: boolean;
    /** FAIR_SHARE=on: work that would wait is held in its workspace's lane and released in fair order. */
    fairShare: boolean;
  };
}) {
  const { redis, prefix, queues } = deps;
  const records = createGenerationRecords(redis, prefix);
  const history = createGenerationHistory(redis, prefix, { perWorkspace: deps.settings.historyPerWorkspace });
  const webhooks = createWebhookEmitter({ queue: queues.webhooks, generations: records, batches: createBatchRecords(redis, prefix) });
  const jobQueue = bullGenerationJobQueue(
    {
      queue: queues.generate,
      ...(deps.settings.fairShare
        ? // Held work goes out as soon as there is room: workers release the rest as their jobs end.
          { fairShare: queues.fairShare, dispatcher: createDispatcher(queues.fairShare, deps.log) }
        : { fairShare: undefined, dispatcher: undefined }),
    },
    queues.fairShare,
    // Admission may send the add right behind its script only if both go out
    // on one connection to one server, so Redis runs them in that order.
    { gated: !redis.isCluster && queues.producer === redis && deps.rateLimiter.connection === redis },
  );
  const jobs = createGenerationJobs({
    records,
    queue: queues.generate,
    fairShare: queues.fairShare,
    withdraw: jobQueue.withdraw,
    redis,
    store: deps.store,
    webhooks,
    urlTtlSeconds: deps.settings.urlTtlSeconds,
    history,
  });
  const hub = createCompletionHub(queues.generateEvents, (waiting) => deps.metrics.syncWaiters.set(waiting));
  const service = createGenerationService({
    queue: jobQueue,
    hub,
    records,
    idempotency: createIdempotency(redis, prefix),
    findJob: jobs.find,
    asyncJobTtlMs: deps.settings.asyncJobTtlMs,
    history: createHistoryRecorder({ history, log: deps.log }),
  });
  const relay = createPartialRelay({ connect: deps.connectSubscriber, prefix, log: deps.log });
  const routeDeps = {
    generations: service,
    jobs,
    relay,
    jobList: createJobList({ history, records, store: deps.store, urlTtlSeconds: deps.settings.urlTtlSeconds }),
    store: deps.store,
    rateLimiter: deps.rateLimiter,
    urlTtlSeconds: deps.settings.urlTtlSeconds,
    checkWebhookTarget: createWebhookTargetCheck({ allowPrivate: deps.settings.allowPrivateWebhookTargets }),
  };
  // Edits run through the same service: same queue, Prefer, Idempotency-Key and webhooks.
  const router: Router = Router().use(
    imagesGenerationsRouter({ ...routeDeps, maxBodyBytes: deps.settings.maxBodyBytes }),
    imagesEditsRouter({ ...routeDeps, maxImageBytes: deps.settings.editMaxImageBytes, uploadTmpDir: deps.settings.uploadTmpDir }),
  );
  return {
    router,
    service,
    /** Stops waiting on completion events; in-flight waits end as timed out. */
    close: async () => {
      hub.close();
      await relay.close();
    },
  };
}
export type Generations = ReturnType<typeof createGenerations>;
