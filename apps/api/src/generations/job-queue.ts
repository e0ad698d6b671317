import {
  addGenerateJobFairly,
  generateImageJobOptions,
  type FairEnqueueDeps,
  type FairShare,
  type GenerateImagePayload,
} from "@imagegen/shared";
import type { AdmissionGate } from "../rate-limit.js";

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
  /**
   * Adds the job. Behind a `gate` (see admissionGate) it is added only if
   * the gate is not set when the add runs; resolves to whether it was added.
   */
  enqueue(payload: GenerateImagePayload, gate?: AdmissionGate): Promise<{ added: boolean }>;
  /**
   * A gate for the job when its admission and its add can share one round
   * trip, or undefined: the admission script sets the gate when it refuses,
   * and the add, sent right behind it on the same connection, then adds
   * nothing. Only on one Redis server: in a cluster the gate lives in the
   * queue's hash slot and the limits in the workspace's.
   */
  admissionGate?(jobId: string): AdmissionGate | undefined;
  /** Takes a job back if no worker has it yet; a job already running or ended stays. */
  withdraw(job: QueuedJobRef): Promise<void>;
  /** The job's end as the queue recorded it, or undefined while it runs (or once it is gone). */
  settled(jobId: string): Promise<SettledJob | undefined>;
}

/**
 * How long a refusal keeps the gate shut. The add it stops is sent within
 * microseconds of the admission; this only has to outlast a stalled event
 * loop, and a refused job the add still slipped in is withdrawn anyway.
 * Short, so that a storm of refusals holds little memory in Redis.
 */
const GATE_TTL_MS = 10_000;

/**
 * How long BullMQ keeps the deduplication key of a job it did add. We need
 * none (request ids are unique): only the key a refusal sets matters.
 */
const ADDED_KEY_TTL_MS = 1;

/**
 * The queue with fair sharing between workspaces when `fair.fairShare` is set
 * (FAIR_SHARE=on). Withdrawals always look in the lanes: work held before
 * fair sharing was switched off may still wait there. `gated`: the rate
 * limiter's connection is this queue's, on a single Redis server.
 */
export function bullGenerationJobQueue(fair: FairEnqueueDeps, lanes: Pick<FairShare, "withdraw">, options: { gated: boolean } = { gated: false }): GenerationJobQueue {
  const { queue } = fair;
  return {
    async enqueue(payload, gate) {
      const opts = generateImageJobOptions(payload);
      // BullMQ's deduplication: the add runs `SET key id PX ttl NX` and adds nothing when the key holds another value.
      const gated = gate === undefined ? opts : { ...opts, deduplication: { id: payload.requestId, ttl: ADDED_KEY_TTL_MS } };
      const id = await addGenerateJobFairly(fair, payload, gated);
      return { added: id === payload.requestId };
    },
    ...(options.gated ? { admissionGate: (jobId: string) => ({ key: `${queue.keys.de}:${jobId}`, ttlMs: GATE_TTL_MS }) } : {}),
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
