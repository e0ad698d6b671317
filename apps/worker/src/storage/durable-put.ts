import type { Logger } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { backoffDelayMs, sleepFor } from "../upstreams/retry.js";

export interface DurablePutOptions {
  /** Stop trying when the next attempt would start after this (epoch ms). */
  deadlineAt: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  log?: Logger;
}

/**
 * Writes an image that a GPU has already produced, retrying through a
 * storage outage with exponential backoff and full jitter for as long as the
 * request's deadline allows: regenerating costs far more than waiting. The
 * store's own client retries quick blips; this covers the minutes-long ones.
 */
export async function putDurably(store: ImageStore, key: string, bytes: Buffer, contentType: string, options: DurablePutOptions): Promise<void> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.put(key, bytes, contentType);
      return;
    } catch (error) {
      const delayMs = backoffDelayMs({ maxAttempts: Infinity, baseDelayMs: options.baseDelayMs ?? 250, maxDelayMs: options.maxDelayMs ?? 5000 }, attempt, random);
      if (Date.now() + delayMs >= options.deadlineAt) throw error;
      options.log?.warn({ key, attempt, delayMs, reason: (error as Error).message }, "image storage write failed; retrying");
      await sleepFor(delayMs, AbortSignal.timeout(Math.max(1, options.deadlineAt - Date.now())));
    }
  }
}
