import { ServiceError } from "@imagegen/shared";
import { meaningOf } from "./status-table.js";
import { UpstreamAttemptError } from "./upstream.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryHooks {
  /** Called before sleeping for a retry; for logs and metrics. */
  onRetry?(error: UpstreamAttemptError, attempt: number, delayMs: number): void;
  /**
   * Whether the next attempt can go to another upstream. Then garbage from
   * this one is worth a retry elsewhere, and its Retry-After (which speaks
   * for this server only) does not hold the retry back.
   */
  canFailOver?(error: UpstreamAttemptError): boolean;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Whether another attempt may help; see the status table. */
export function isRetryable(error: UpstreamAttemptError): boolean {
  return meaningOf(error).retryable;
}

/** Exponential backoff with full jitter (AWS architecture blog), capped. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of attempts, or
 * would overrun `deadlineAt`. A `Retry-After` from the upstream replaces the
 * computed backoff unless the retry fails over to another upstream. Only
 * UpstreamAttemptError is retried; the last one is rethrown for the caller
 * to map.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  deadlineAt: number,
  signal: AbortSignal,
  attempt: (attemptNumber: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const random = hooks.random ?? Math.random;
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? sleepFor;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!(error instanceof UpstreamAttemptError) || attemptNumber >= policy.maxAttempts) throw error;
      const failOver = hooks.canFailOver?.(error) ?? false;
      if (!isRetryable(error) && !(failOver && error.kind === "invalid_response")) throw error;
      const backoffMs = backoffDelayMs(policy, attemptNumber, random);
      const delayMs = failOver ? backoffMs : (error.details.retryAfterMs ?? backoffMs);
      if (now() + delayMs >= deadlineAt) throw error;
      hooks.onRetry?.(error, attemptNumber, delayMs);
      await sleep(delayMs, signal);
    }
  }
}

const MESSAGE_LIMIT = 300;

/** The public meaning of an upstream's final failure, as the status table gives it. */
export function toServiceError(error: UpstreamAttemptError): ServiceError {
  const meaning = meaningOf(error);
  const retryAfterSeconds =
    meaning.retryAfter && error.details.retryAfterMs !== undefined ? Math.max(1, Math.ceil(error.details.retryAfterMs / 1000)) : undefined;
  const detail = meaning.upstreamMessage ? (error.details.upstreamMessage ?? "").slice(0, MESSAGE_LIMIT) : "";
  return new ServiceError(meaning.code, detail ? `The model rejected the request: ${detail}` : undefined, {
    cause: error,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}
