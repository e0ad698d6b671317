import { createBatchRecords, createGenerationRecords, createWebhookEmitter, WEBHOOKS_QUEUE, type Logger, type WebhookEmitter, type RedisClient } from "@imagegen/shared";
import type { WorkerConfig } from "../config.js";
import type { QueueHandles } from "../queues/queue-handles.js";
import type { WorkerRegistration } from "../queues/worker-registry.js";
import { createWebhookDeliveryProcessor } from "./deliver.js";
import { createWorkspaceWebhookSecrets } from "./secrets.js";

export interface WebhooksDeps {
  config: Pick<WorkerConfig, "QUEUE_PREFIX" | "WEBHOOK_CONCURRENCY" | "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_ALLOW_PRIVATE_TARGETS" | "WEBHOOK_SIGNING_SECRET">;
  connection: RedisClient;
  queues: Pick<QueueHandles, "webhooks">;
  log: Logger;
}

/**
 * Webhooks, both ends: the emitter that queues an event when a retained job
 * or a batch ends (it reads their records to describe them), and the
 * delivery Worker that signs and sends it.
 */
export function composeWebhooks(deps: WebhooksDeps): { emitter: WebhookEmitter; registration: WorkerRegistration } {
  const { config, connection } = deps;
  const emitter = createWebhookEmitter({
    queue: deps.queues.webhooks,
    generations: createGenerationRecords(connection, config.QUEUE_PREFIX),
    batches: createBatchRecords(connection, config.QUEUE_PREFIX),
  });
  const processor = createWebhookDeliveryProcessor({
    secrets: createWorkspaceWebhookSecrets({ redis: connection, prefix: config.QUEUE_PREFIX, fallback: config.WEBHOOK_SIGNING_SECRET }),
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    log: deps.log.child({ queue: WEBHOOKS_QUEUE }),
  });
  return { emitter, registration: { queue: WEBHOOKS_QUEUE, processor, concurrency: config.WEBHOOK_CONCURRENCY } };
}
