import type { QueueEvents } from "bullmq";

export type JobOutcome =
  | { status: "completed"; returnValue: unknown }
  | { status: "failed"; failedReason: string | undefined }
  | { status: "timed_out" }
  | { status: "abandoned" };

export interface CompletionHub {
  /**
   * Registers interest in a job's end. Call before enqueueing, so an end that
   * comes quickly is not missed. Resolves once: on completion, failure,
   * after `timeoutMs`, or when `signal` aborts (the caller went away).
   */
  wait(jobId: string, timeoutMs: number, signal: AbortSignal): Promise<JobOutcome>;
  readonly waiting: number;
  close(): void;
}

interface Waiter {
  settle(outcome: JobOutcome): void;
}

/**
 * Every synchronous request of this API process waits on one shared event
 * stream (BullMQ's QueueEvents, a single blocking XREAD connection) instead
 * of a listener or connection each: an end event is looked up in a map.
 */
export function createCompletionHub(events: QueueEvents, onChange?: (waiting: number) => void): CompletionHub {
  // Usually one waiter per job; a retry with the same Idempotency-Key adds another.
  const waiters = new Map<string, Set<Waiter>>();
  let count = 0;
  const settleAll = (jobId: string, outcome: JobOutcome) => {
    for (const waiter of [...(waiters.get(jobId) ?? [])]) waiter.settle(outcome);
  };

  const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    // Every job's end passes here (batch lines, other API processes' calls):
    // parse only the results someone here waits for.
    if (!waiters.has(jobId)) return;
    // QueueEvents hands over the return value as stored: a JSON string.
    let returnValue = returnvalue;
    if (typeof returnvalue === "string") {
      try {
        returnValue = JSON.parse(returnvalue);
      } catch {
        // keep the raw value; the caller's schema check will reject it
      }
    }
    settleAll(jobId, { status: "completed", returnValue });
  };
  const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    settleAll(jobId, { status: "failed", failedReason });
  };
  events.on("completed", onCompleted);
  events.on("failed", onFailed);

  return {
    wait(jobId, timeoutMs, signal) {
      return new Promise((resolve) => {
        const settle = (outcome: JobOutcome) => {
          const forJob = waiters.get(jobId);
          if (!forJob?.delete(waiter)) return;
          if (forJob.size === 0) waiters.delete(jobId);
          count--;
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          onChange?.(count);
          resolve(outcome);
        };
        const waiter: Waiter = { settle };
        const onAbort = () => settle({ status: "abandoned" });
        const timer = setTimeout(() => settle({ status: "timed_out" }), timeoutMs);
        const forJob = waiters.get(jobId) ?? new Set<Waiter>();
        forJob.add(waiter);
        waiters.set(jobId, forJob);
        count++;
        onChange?.(count);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    get waiting() {
      return count;
    },
    close() {
      events.off("completed", onCompleted);
      events.off("failed", onFailed);
      for (const jobId of [...waiters.keys()]) settleAll(jobId, { status: "abandoned" });
    },
  };
}
