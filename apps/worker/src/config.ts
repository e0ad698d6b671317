import { commonEnvSchema, parseEnv } from "@imagegen/shared";
import { checkStorageEnv, storageEnvSchema } from "@imagegen/storage";
import { z } from "zod";

const workerEnvSchema = commonEnvSchema
  .extend(storageEnvSchema.shape)
  .extend({
    /**
     * Jobs one worker process runs at once. Jobs mostly wait on GPUs, so this
     * is far above the core count; upstream slots still cap what each GPU
     * server receives.
     */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
    /** Port of the worker's /metrics, /healthz and /readyz; 0 picks a free one. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
    METRICS_HOST: z.string().default("0.0.0.0"),
    /**
     * How long a job's lock lives without renewal. A worker that dies holds
     * its jobs this long before another worker takes them over.
     */
    LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
    /** How often workers look for jobs whose worker died. */
    STALLED_INTERVAL_MS: z.coerce.number().int().min(1000).default(15_000),
  })
  .superRefine(checkStorageEnv);

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(workerEnvSchema, env, "worker");
}
