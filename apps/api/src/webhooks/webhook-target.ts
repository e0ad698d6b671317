import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isPrivateAddress, ServiceError, withDeadline } from "@imagegen/shared";

/** A name that takes longer to resolve is accepted here; the worker checks again when it delivers. */
const LOOKUP_TIMEOUT_MS = 2000;

export type WebhookTargetCheck = (url: string) => Promise<void>;

/**
 * Refuses a `webhook_url` that points at a private or loopback address when
 * the operator does not allow those (WEBHOOK_ALLOW_PRIVATE_TARGETS): the
 * caller learns at submission, with a 400 naming the field, instead of from
 * a delivery that never comes. IP literals are checked as written, names as
 * they resolve now; the worker's delivery still checks each connection, so a
 * name re-pointed later (DNS rebinding) is refused then.
 */
export function createWebhookTargetCheck(options: { allowPrivate: boolean }): WebhookTargetCheck {
  const refuse = (detail: string) =>
    new ServiceError("invalid_payload", `webhook_url must not point at ${detail}: this deployment does not deliver webhooks to private or loopback addresses.`, {
      param: "webhook_url",
    });
  return async (url) => {
    if (options.allowPrivate) return;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) {
      if (isPrivateAddress(host)) throw refuse(`a private or loopback address (${host})`);
      return;
    }
    const addresses = await withDeadline(lookup(host, { all: true }), LOOKUP_TIMEOUT_MS, "dns").catch(() => []);
    if (addresses.length > 0 && addresses.every((entry) => isPrivateAddress(entry.address))) {
      throw refuse(`a host that resolves only to private or loopback addresses (${host})`);
    }
  };
}
