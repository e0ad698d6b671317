import type { Logger } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { deadlineSignal } from "../upstreams/deadline.js";
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
 * The deadline also bounds each write: a store that accepts and never
 * answers is left when the request's time is up.
 */
export async function putDurably(store: ImageStore, key: string, bytes: Buffer, contentType: string, options: DurablePutOptions): Promise<void> {
  const random = options.random ?? Math.random;
  const deadline = deadlineSignal(options.deadlineAt - Date.now(), "image storage write passed the request's deadline");
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.put(key, bytes, contentType, deadline.signal);
        return;
      } catch (error) {
        const delayMs = backoffDelayMs({ maxAttempts: Infinity, baseDelayMs: options.baseDelayMs ?? 250, maxDelayMs: options.maxDelayMs ?? 5000 }, attempt, random);
        if (deadline.signal.aborted || Date.now() + delayMs >= options.deadlineAt) throw error;
        options.log?.warn({ key, attempt, delayMs, reason: (error as Error).message }, "image storage write failed; retrying");
        await sleepFor(delayMs, deadline.signal);
      }
    }
  } finally {
    deadline.clear();
  }
}
