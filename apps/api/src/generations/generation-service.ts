import {
  failureToError,
  fromFailure,
  type GenerationRecords,
  GENERATE_IMAGE_QUEUE,
  generateImageJobOptions,
  generateImageResultSchema,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
  type Logger,
} from "@imagegen/shared";
import type { Queue } from "bullmq";
import type { CompletionHub, JobOutcome } from "./completion-hub.js";

export interface GenerationService {
  /** Enqueues the request and waits for its result; throws a ServiceError on failure. */
  runSync(payload: GenerateImagePayload, clientGone: AbortSignal, log: Logger): Promise<GenerateImageResult>;
  /**
   * Enqueues retained work (its record already written) and waits at most
   * `waitMs`: the result, or undefined when it is still running and the
   * caller should poll. The job is never withdrawn: someone may poll it.
   */
  runRetained(payload: GenerateImagePayload, waitMs: number, clientGone: AbortSignal, log: Logger): Promise<GenerateImageResult | undefined>;
  /** Waits at most `waitMs` for retained work enqueued earlier (an idempotent retry). */
  awaitRetained(jobId: string, waitMs: number, clientGone: AbortSignal): Promise<GenerateImageResult | undefined>;
}

/** Time past the job's deadline we keep waiting, for the worker's own reply to arrive. */
const DEADLINE_GRACE_MS = 2000;

function parseResult(value: unknown): GenerateImageResult {
  const parsed = generateImageResultSchema.safeParse(value);
  if (!parsed.success) throw new ServiceError("internal_error", "The worker returned a result this API cannot read.");
  return parsed.data;
}

export function createGenerationService(deps: { queue: Queue; hub: CompletionHub; records: GenerationRecords }): GenerationService {
  async function enqueue(payload: GenerateImagePayload, log: Logger): Promise<void> {
    try {
      await deps.queue.add(GENERATE_IMAGE_QUEUE, payload, generateImageJobOptions(payload));
    } catch (error) {
      log.error({ err: error }, "could not enqueue generation");
      throw new ServiceError("service_unavailable", "The job queue is unavailable. Retry with backoff.", { cause: error });
    }
  }

  /**
   * Listens for the job's end, then enqueues it (in that order, so a quick
   * end is not missed), and waits at most `waitMs`.
   */
  async function enqueueAndWait(payload: GenerateImagePayload, waitMs: number, clientGone: AbortSignal, log: Logger): Promise<JobOutcome> {
    const enqueueFailed = new AbortController();
    const outcome = deps.hub.wait(payload.requestId, waitMs, AbortSignal.any([clientGone, enqueueFailed.signal]));
    try {
      await enqueue(payload, log);
    } catch (error) {
      enqueueFailed.abort();
      await outcome;
      throw error;
    }
    return outcome;
  }

  /** The retained outcome: the record is the last word whatever the events said. */
  async function retainedOutcome(jobId: string): Promise<GenerateImageResult | undefined> {
    const record = await deps.records.get(jobId);
    if (record?.status === "succeeded" && record.result) return record.result;
    if (record?.status === "failed" && record.error) throw fromFailure(record.error);
    if (record?.status === "cancelled") throw new ServiceError("not_found", "This image generation job was cancelled.");
    return undefined;
  }

  /** Nobody will collect the result: take the job back if no worker has it yet. */
  async function withdraw(jobId: string, log: Logger): Promise<void> {
    try {
      await deps.queue.remove(jobId);
    } catch (error) {
      log.debug({ err: error }, "could not withdraw job (already running or finished)");
    }
  }

  return {
    async runSync(payload, clientGone, log) {
      const waitMs = Math.max(0, payload.deadlineAt - Date.now()) + DEADLINE_GRACE_MS;
      const result = await enqueueAndWait(payload, waitMs, clientGone, log);
      switch (result.status) {
        case "completed":
          return parseResult(result.returnValue);
        case "failed":
          throw failureToError(result.failedReason);
        case "abandoned":
          await withdraw(payload.requestId, log);
          throw new ServiceError("internal_error", "The client closed the connection.");
        case "timed_out": {
          // The end event may have been missed (e.g. while reconnecting to
          // Redis): the job's own state is the last word.
          const job = await deps.queue.getJob(payload.requestId).catch(() => undefined);
          const state = await job?.getState().catch(() => undefined);
          if (job && state === "completed") return parseResult(job.returnvalue);
          if (job && state === "failed") throw failureToError(job.failedReason);
          await withdraw(payload.requestId, log);
          throw new ServiceError("upstream_timeout");
        }
      }
    },

    async runRetained(payload, waitMs, clientGone, log) {
      await enqueueAndWait(payload, waitMs, clientGone, log);
      return retainedOutcome(payload.requestId);
    },

    async awaitRetained(jobId, waitMs, clientGone) {
      // Listen first, then look: an end between the two is not missed.
      const stopListening = new AbortController();
      const outcome = deps.hub.wait(jobId, waitMs, AbortSignal.any([clientGone, stopListening.signal]));
      const already = await retainedOutcome(jobId).catch((error: unknown) => {
        stopListening.abort();
        throw error;
      });
      if (already) {
        stopListening.abort();
        await outcome;
        return already;
      }
      await outcome;
      return retainedOutcome(jobId);
    },
  };
}
