import { GENERATE_IMAGE_QUEUE, generateImageJobOptions, type GenerateImagePayload } from "@imagegen/shared";
import type { Queue } from "bullmq";

/** How a job ended, read from the queue itself rather than from its events. */
export type SettledJob = { state: "completed"; returnValue: unknown } | { state: "failed"; failedReason: string | undefined };

/**
 * What the generation service needs of the generate-image queue: small, so
 * its decisions can be tested without Redis, and the one place that turns a
 * payload into a BullMQ job.
 */
export interface GenerationJobQueue {
  enqueue(payload: GenerateImagePayload): Promise<void>;
  /** Takes a job back if no worker has it yet; a job already running or ended stays. */
  withdraw(jobId: string): Promise<void>;
  /** The job's end as the queue recorded it, or undefined while it runs (or once it is gone). */
  settled(jobId: string): Promise<SettledJob | undefined>;
}

export function bullGenerationJobQueue(queue: Queue): GenerationJobQueue {
  return {
    async enqueue(payload) {
      await queue.add(GENERATE_IMAGE_QUEUE, payload, generateImageJobOptions(payload));
    },
    async withdraw(jobId) {
      await queue.remove(jobId);
    },
    async settled(jobId) {
      const job = await queue.getJob(jobId);
      const state = await job?.getState();
      if (job && state === "completed") return { state, returnValue: job.returnvalue };
      if (job && state === "failed") return { state, failedReason: job.failedReason };
      return undefined;
    },
  };
}
