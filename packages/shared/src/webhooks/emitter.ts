import type { Queue } from "bullmq";
import { newId } from "../records/ids.js";
import type { BatchRecords } from "../records/batch-records.js";
import type { GenerationRecords } from "../records/generation-records.js";
import { webhookJobOptions, type WebhookDeliveryPayload, type WebhookEventType } from "../queues/webhooks.js";
import { toBatchObject } from "../wire/batches.js";

export interface WebhookEmitter {
  generationEnded(id: string, type: Extract<WebhookEventType, `image.generation.${string}`>): Promise<void>;
  batchEnded(id: string, type: Extract<WebhookEventType, `batch.${string}`>): Promise<void>;
}

/**
 * Queues a webhook event when a job or batch that named a webhook ends.
 * Events are thin: the object's id, status and timestamps (a generation's
 * images are fetched with GET, where links are signed for the caller).
 */
export function createWebhookEmitter(deps: { queue: Queue; generations: GenerationRecords; batches: BatchRecords }): WebhookEmitter {
  async function emit(workspaceId: string, url: string, type: WebhookEventType, data: Record<string, unknown>): Promise<void> {
    const payload: WebhookDeliveryPayload = {
      eventId: newId("msg"),
      workspaceId,
      url,
      type,
      data,
      timestamp: Math.floor(Date.now() / 1000),
    };
    await deps.queue.add(type, payload, webhookJobOptions(payload.eventId));
  }

  return {
    async generationEnded(id, type) {
      const record = await deps.generations.get(id);
      if (!record?.webhook_url) return;
      await emit(record.workspace, record.webhook_url, type, {
        id: record.id,
        object: "image.generation.job",
        status: record.status,
        model: record.model,
        created_at: record.created_at,
        completed_at: record.completed_at ?? record.cancelled_at ?? null,
        ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
      });
    },
    async batchEnded(id, type) {
      const record = await deps.batches.get(id);
      if (!record?.webhook_url) return;
      await emit(record.workspace, record.webhook_url, type, toBatchObject(record));
    },
  };
}
