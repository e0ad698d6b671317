import {
  addGenerateJobFairly,
  generateImageJobOptions,
  type FairEnqueueDeps,
  type FairShare,
  type GenerateImagePayload,
} from "@imagegen/shared";

/** How a job ended, read from the queue itself rather than from its events. */
export type SettledJob = { state: "completed"; returnValue: unknown } | { state: "failed"; failedReason: string | undefined };

/** What identifies a queued job: its id, and the workspace whose lane may hold it. */
export type QueuedJobRef = Pick<GenerateImagePayload, "requestId" | "workspaceId">;

/**
 * What the generation service needs of the generate-image queue: small, so
 * its decisions can be tested without Redis, and the one place that turns a
 * payload into a BullMQ job.
 */
export interface GenerationJobQueue {
  enqueue(payload: GenerateImagePayload): Promise<void>;
  /** Takes a job back if no worker has it yet; a job already running or ended stays. */
  withdraw(job: QueuedJobRef): Promise<void>;
  /** The job's end as the queue recorded it, or undefined while it runs (or once it is gone). */
  settled(jobId: string): Promise<SettledJob | undefined>;
}

/**
 * The queue with fair sharing between workspaces when `fair.fairShare` is set
 * (FAIR_SHARE=on). Withdrawals always look in the lanes: work held before
 * fair sharing was switched off may still wait there.
 */
export function bullGenerationJobQueue(fair: FairEnqueueDeps, lanes: Pick<FairShare, "withdraw">): GenerationJobQueue {
  const { queue } = fair;
  return {
    async enqueue(payload) {
      await addGenerateJobFairly(fair, payload, generateImageJobOptions(payload));
    },
    async withdraw(job) {
      // Out of its lane first, so no dispatcher releases it in between.
      await lanes.withdraw(job.workspaceId, [job.requestId]);
      await queue.remove(job.requestId);
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
