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
    /** How often this worker publishes its upstreams' health per model to Redis, for the API's /v1/model-health. */
    MODEL_HEALTH_INTERVAL_MS: z.coerce.number().int().min(250).max(300_000).default(5000),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
    /**
     * `global`: an upstream's max_concurrency caps what all worker processes
     * send it together (a Redis semaphore with leases). `process`: each worker
     * process may send that many (the cap multiplies with the replicas).
     */
    GPU_SLOTS_SCOPE: z.enum(["global", "process"]).default("global"),
    /**
     * How long a global GPU slot stays taken without renewal (renewed every
     * third of it while the call runs): how long a killed worker's slots stay
     * lost to the others.
     */
    GPU_SLOT_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
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
    /**
     * How long queued (async, batch) work may wait in total for an upstream of
     * its model to come back when none is healthy, before it fails with 503
     * like a synchronous call. 0 fails at once.
     */
    UPSTREAM_RECOVERY_WAIT_MS: z.coerce.number().int().min(0).default(120_000),
    /** Batch steps (validate, dispatch, finalize) one worker runs at once; they stream files, so few. */
    BATCH_STEP_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    /** Webhook deliveries one worker makes at once. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** Let webhooks reach private and loopback addresses (tests, single-host setups). Off: such targets are refused. */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
    /** Fallback signing secret (`whsec_…`) for workspaces without their own. */
    WEBHOOK_SIGNING_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, "WEBHOOK_SIGNING_SECRET looks like whsec_<base64>").optional(),
  })
  .superRefine(checkStorageEnv);

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(workerEnvSchema, env, "worker");
}
