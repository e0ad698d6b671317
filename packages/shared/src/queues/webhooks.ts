import type { JobsOptions } from "bullmq";
import { z } from "zod";

/** The webhooks queue: one job per event delivery, retried with backoff for a bounded time. */
export const WEBHOOKS_QUEUE = "webhooks";

export const WEBHOOK_EVENT_TYPES = [
  "image.generation.succeeded",
  "image.generation.failed",
  "image.generation.cancelled",
  "batch.completed",
  "batch.failed",
  "batch.cancelled",
  "batch.expired",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const webhookDeliveryPayloadSchema = z.object({
  /** `msg_…`: the Standard Webhooks `webhook-id`, stable across retries so receivers can deduplicate. */
  eventId: z.string().min(1),
  workspaceId: z.string().min(1),
  url: z.url(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  /** The object the event is about (an async job or a batch), as the API would return it. */
  data: z.record(z.string(), z.unknown()),
  timestamp: z.number().int(),
});
export type WebhookDeliveryPayload = z.infer<typeof webhookDeliveryPayloadSchema>;

/** 10 attempts, 5 s doubling: the last one about 40 minutes and 85 minutes in all after the event. */
export function webhookJobOptions(eventId: string): JobsOptions {
  return {
    jobId: eventId,
    attempts: 10,
    backoff: { type: "exponential", delay: 5000 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
