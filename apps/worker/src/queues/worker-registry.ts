import { queuePrefix, type Logger, type RedisClient, type Telemetry } from "@imagegen/shared";
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { WorkerMetrics } from "../metrics.js";

/** One queue's consumer, as a concern's builder describes it. */
export interface WorkerRegistration {
  queue: string;
  processor: (job: Job, token?: string) => Promise<unknown>;
  /** Jobs of this queue one process runs at once. */
  concurrency: number;
  /** Times a job may lose its worker before it is failed (BullMQ's default: 1). */
  maxStalledCount?: number;
}

export interface WorkerRegistryDeps {
  connection: RedisClient;
  prefix: string;
  /** How long a job's lock lives without renewal (LOCK_DURATION_MS). */
  lockDurationMs: number;
  /** How often stalled jobs are looked for (STALLED_INTERVAL_MS). */
  stalledIntervalMs: number;
  /** With tracing on, each job runs in a consumer span whose parent is the producer's. */
  telemetry: Telemetry["bullmq"];
  metrics: Pick<WorkerMetrics, "jobSeconds">;
  log: Logger;
}

export interface WorkerRegistry {
  register(registration: WorkerRegistration): Worker;
  /** Waits until every Worker's connection is ready, then starts them all taking jobs. */
  start(): Promise<void>;
  /** Every registered Worker is taking jobs. */
  isRunning(): boolean;
  /** Jobs of `queue` this process is running now. */
  active(queue: string): number;
  /** Stops taking jobs and waits for those in flight. */
  close(): Promise<void>;
}

/**
 * The one place Workers are made: every queue gets the same connection,
 * prefix, lock and stall settings, tracing, listeners and timing, so a new
 * queue cannot forget one of them. Workers start only when `start` is called.
 */
export function createWorkerRegistry(deps: WorkerRegistryDeps): WorkerRegistry {
  const workers: Worker[] = [];
  const running = new Map<string, number>();

  function timed(queue: string, processor: WorkerRegistration["processor"]): WorkerRegistration["processor"] {
    return async (job, token) => {
      const stopTimer = deps.metrics.jobSeconds.startTimer({ queue });
      running.set(queue, (running.get(queue) ?? 0) + 1);
      try {
        const result = await processor(job, token);
        stopTimer({ outcome: "ok" });
        return result;
      } catch (error) {
        stopTimer({ outcome: error instanceof DelayedError ? "deferred" : "error" });
        throw error;
      } finally {
        running.set(queue, (running.get(queue) ?? 1) - 1);
      }
    };
  }

  return {
    register(registration) {
      const { queue } = registration;
      const worker = new Worker(queue, timed(queue, registration.processor), {
        connection: deps.connection,
        prefix: queuePrefix(deps.prefix, queue),
        concurrency: registration.concurrency,
        lockDuration: deps.lockDurationMs,
        stalledInterval: deps.stalledIntervalMs,
        ...(registration.maxStalledCount === undefined ? {} : { maxStalledCount: registration.maxStalledCount }),
        autorun: false,
        telemetry: deps.telemetry,
      });
      worker.on("error", (error) => deps.log.error({ err: error, queue }, "worker error"));
      worker.on("failed", (job, error) => {
        // BullMQ reports every failed attempt (attemptsMade already counts this
        // one); processors log their own attempts, so only the last is news here.
        const willRetry = job !== undefined && !(error instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
        const fields = { queue, jobId: job?.id, attemptsMade: job?.attemptsMade, reason: error.message };
        if (willRetry) deps.log.debug(fields, "job attempt failed; it will be retried");
        else deps.log.warn(fields, "job failed for good");
      });
      worker.on("stalled", (jobId) => deps.log.warn({ queue, jobId }, "job stalled: its worker stopped renewing the lock; it will run again"));
      workers.push(worker);
      return worker;
    },
    async start() {
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      for (const worker of workers) void worker.run();
    },
    active: (queue) => running.get(queue) ?? 0,
    isRunning() {
      return workers.length > 0 && workers.every((worker) => worker.isRunning());
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
