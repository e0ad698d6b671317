import {
  failureToError,
  GENERATE_IMAGE_QUEUE,
  generateImageJobOptions,
  generateImageResultSchema,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
  type Logger,
} from "@imagegen/shared";
import type { Queue } from "bullmq";
import type { CompletionHub } from "./completion-hub.js";

export interface GenerationService {
  /** Enqueues the request and waits for its result; throws a ServiceError on failure. */
  runSync(payload: GenerateImagePayload, clientGone: AbortSignal, log: Logger): Promise<GenerateImageResult>;
}

/** Time past the job's deadline we keep waiting, for the worker's own reply to arrive. */
const DEADLINE_GRACE_MS = 2000;

function parseResult(value: unknown): GenerateImageResult {
  const parsed = generateImageResultSchema.safeParse(value);
  if (!parsed.success) throw new ServiceError("internal_error", "The worker returned a result this API cannot read.");
  return parsed.data;
}

export function createGenerationService(deps: { queue: Queue; hub: CompletionHub }): GenerationService {
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
      const enqueueFailed = new AbortController();
      const outcome = deps.hub.wait(payload.requestId, waitMs, AbortSignal.any([clientGone, enqueueFailed.signal]));
      try {
        await deps.queue.add(GENERATE_IMAGE_QUEUE, payload, generateImageJobOptions(payload));
      } catch (error) {
        log.error({ err: error }, "could not enqueue generation");
        enqueueFailed.abort();
        await outcome;
        throw new ServiceError("service_unavailable", "The job queue is unavailable. Retry with backoff.", { cause: error });
      }
      const result = await outcome;
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
  };
}
