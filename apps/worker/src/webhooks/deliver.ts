import { signWebhook, webhookDeliveryPayloadSchema, type Logger } from "@imagegen/shared";
import { UnrecoverableError, type Job } from "bullmq";
import { Agent, request } from "undici";
import { assertPublicUrl, BlockedAddressError, guardedLookup } from "@imagegen/shared";

export interface WebhookSecrets {
  /** The workspace's signing secret (`whsec_…`). */
  secretFor(workspaceId: string): Promise<string>;
}

export interface WebhookDeliveryDeps {
  secrets: WebhookSecrets;
  /** Deliver to private and loopback addresses too (tests, single-host deployments). */
  allowPrivateTargets: boolean;
  timeoutMs: number;
  log: Logger;
}

/**
 * Delivers one webhook event, signed the Standard Webhooks way. Any answer
 * but 2xx (or no answer) is retried by BullMQ with exponential backoff for a
 * bounded time (see the webhooks queue module); a target that resolves only
 * to private addresses is refused for good.
 */
export function createWebhookDeliveryProcessor(deps: WebhookDeliveryDeps) {
  const agent = new Agent({ connect: { lookup: guardedLookup(deps.allowPrivateTargets) }, keepAliveTimeout: 10_000 });
  return async function deliverWebhook(job: Job): Promise<{ status: number }> {
    const parsed = webhookDeliveryPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError("invalid webhook delivery payload");
    const event = parsed.data;
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.timestamp * 1000).toISOString(), data: event.data });
    const secret = await deps.secrets.secretFor(event.workspaceId);
    const log = deps.log.child({ eventId: event.eventId, workspace: event.workspaceId, type: event.type, attempt: job.attemptsMade + 1 });
    try {
      assertPublicUrl(event.url, deps.allowPrivateTargets);
      const response = await request(event.url, {
        method: "POST",
        dispatcher: agent,
        headers: {
          "content-type": "application/json",
          "user-agent": "imagegen-webhooks/1",
          ...signWebhook(secret, event.eventId, event.timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`webhook target answered ${response.statusCode}`);
      }
      log.info({ status: response.statusCode }, "webhook delivered");
      return { status: response.statusCode };
    } catch (error) {
      const blocked = error instanceof BlockedAddressError || (error as { cause?: unknown }).cause instanceof BlockedAddressError;
      log.warn({ reason: (error as Error).message }, blocked ? "webhook refused: private target" : "webhook delivery failed; will retry");
      if (blocked) throw new UnrecoverableError((error as Error).message);
      throw error;
    }
  };
}
