import { withRecordingOff } from "@imagegen/shared";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ModelUpstreamHealth } from "./operations/model-health.js";
import type { UpstreamUsage } from "./upstreams/usage.js";

/**
 * Every metric the worker exports, by the names the Grafana dashboard in
 * infra/ uses. Buckets span tens of milliseconds to minutes: image work.
 */
const IMAGE_WORK_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** `enabled: false` (METRICS_ENABLED=false): the same objects, recording nothing, no process metrics. */
export function createWorkerMetrics(options: { enabled: boolean } = { enabled: true }) {
  const registry = new Registry();
  if (options.enabled) collectDefaultMetrics({ register: registry });
  // Slot usage is read at scrape time from whoever owns the slots.
  let upstreamUsage: () => UpstreamUsage[] = () => [];
  let modelHealth: () => ModelUpstreamHealth[] = () => [];
  let jobsWaitingForGpu: () => number = () => 0;
  const metrics = {
    registry,
    readModelHealthFrom(source: () => ModelUpstreamHealth[]) {
      modelHealth = source;
    },
    readUpstreamUsageFrom(source: () => UpstreamUsage[]) {
      upstreamUsage = source;
    },
    readJobsWaitingForGpuFrom(source: () => number) {
      jobsWaitingForGpu = source;
    },
    jobsWaitingForGpu: new Gauge({
      name: "imagegen_worker_jobs_waiting_for_gpu",
      help: "Jobs this worker has taken but not started, waiting for a GPU slot (of this worker, or of all workers when slots are global).",
      registers: [registry],
      collect() {
        this.set(jobsWaitingForGpu());
      },
    }),
    generations: new Counter({
      name: "imagegen_generations_total",
      help: "Generation jobs finished, by model, outcome (ok|error) and public error code.",
      labelNames: ["model", "outcome", "code"] as const,
      registers: [registry],
    }),
    imagesGenerated: new Counter({
      name: "imagegen_images_generated_total",
      help: "Images produced and stored.",
      labelNames: ["model"] as const,
      registers: [registry],
    }),
    generationSeconds: new Histogram({
      name: "imagegen_generation_duration_seconds",
      help: "Time from job start to stored images (or failure).",
      labelNames: ["model", "outcome"] as const,
      buckets: IMAGE_WORK_BUCKETS_SECONDS,
      registers: [registry],
    }),
    /** Every job of every queue (generate-image, batches, webhooks), timed where the Workers are registered. */
    jobSeconds: new Histogram({
      name: "imagegen_job_duration_seconds",
      help: "Time a worker spent on one job, by queue and outcome (ok|error|deferred: put back to wait, not a failure).",
      labelNames: ["queue", "outcome"] as const,
      buckets: IMAGE_WORK_BUCKETS_SECONDS,
      registers: [registry],
    }),
    queueWaitSeconds: new Histogram({
      name: "imagegen_queue_wait_seconds",
      help: "Time a job waited in the queue before a worker took it.",
      labelNames: ["kind"] as const,
      buckets: IMAGE_WORK_BUCKETS_SECONDS,
      registers: [registry],
    }),
    /** Per workspace, for fair sharing: how long each tenant waits while others are busy. */
    workspaceQueueWaitSeconds: new Histogram({
      name: "imagegen_workspace_queue_wait_seconds",
      help: "Time a generate-image job waited (held in its workspace's lane, then queued) before a worker took it, by workspace and kind.",
      labelNames: ["workspace", "kind"] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    workspaceRunningJobs: new Gauge({
      name: "imagegen_workspace_running_jobs",
      help: "Generate-image jobs this worker is running, by workspace (sum over workers for the fleet).",
      labelNames: ["workspace"] as const,
      registers: [registry],
    }),
    upstreamRequestSeconds: new Histogram({
      name: "imagegen_upstream_request_duration_seconds",
      help: "One HTTP attempt against a GPU upstream.",
      labelNames: ["upstream", "protocol", "outcome"] as const,
      buckets: IMAGE_WORK_BUCKETS_SECONDS,
      registers: [registry],
    }),
    upstreamRetries: new Counter({
      name: "imagegen_upstream_retries_total",
      help: "Upstream attempts that failed and were retried, by reason (HTTP status or fault kind).",
      labelNames: ["upstream", "reason"] as const,
      registers: [registry],
    }),
    upstreamInFlight: new Gauge({
      name: "imagegen_upstream_in_flight",
      help: "Requests in flight to each upstream from this worker.",
      labelNames: ["upstream", "protocol"] as const,
      registers: [registry],
      collect() {
        for (const usage of upstreamUsage()) this.set({ upstream: usage.upstream, protocol: usage.protocol }, usage.inFlight);
      },
    }),
    upstreamSlots: new Gauge({
      name: "imagegen_upstream_slots",
      help: "Configured concurrent request slots per upstream (max_concurrency; across all workers when GPU_SLOTS_SCOPE=global).",
      labelNames: ["upstream", "protocol"] as const,
      registers: [registry],
      collect() {
        for (const usage of upstreamUsage()) this.set({ upstream: usage.upstream, protocol: usage.protocol }, usage.capacity);
      },
    }),
    upstreamSlotWaitSeconds: new Histogram({
      name: "imagegen_upstream_slot_wait_seconds",
      help: "Time a request (or fan-out part) waited in the worker for a free GPU slot on any healthy upstream of its model.",
      labelNames: ["model"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    upstreamFailovers: new Counter({
      name: "imagegen_upstream_failovers_total",
      help: "Retries that went to a different upstream than the failed attempt, by the upstream left (from) and the one taken (to).",
      labelNames: ["from", "to"] as const,
      registers: [registry],
    }),
    upstreamCircuitState: new Gauge({
      name: "imagegen_upstream_circuit_state",
      help: "Circuit breaker per upstream in this worker: 0 closed, 1 half-open (one trial request), 2 open (no traffic).",
      labelNames: ["upstream"] as const,
      registers: [registry],
      collect() {
        for (const usage of upstreamUsage()) this.set({ upstream: usage.upstream }, CIRCUIT_STATE_VALUE[usage.circuitState]);
      },
    }),
    upstreamHealthy: new Gauge({
      name: "imagegen_upstream_healthy",
      help: "1 when the upstream is in rotation in this worker (passing its health probes, circuit not open), else 0.",
      labelNames: ["upstream"] as const,
      registers: [registry],
      collect() {
        for (const usage of upstreamUsage()) this.set({ upstream: usage.upstream }, usage.healthy ? 1 : 0);
      },
    }),
    /** Queued jobs put back to wait because no upstream of their model was healthy. */
    jobsDeferred: new Counter({
      name: "imagegen_jobs_deferred_total",
      help: "Queued (async/batch) jobs delayed to wait for an upstream to recover, by model; no attempt is spent.",
      labelNames: ["model"] as const,
      registers: [registry],
    }),
    modelHealthyUpstreams: new Gauge({
      name: "imagegen_model_healthy_upstreams",
      help: "Upstreams of each model in rotation in this worker; 0 means the model cannot be served from here.",
      labelNames: ["model"] as const,
      registers: [registry],
      collect() {
        for (const health of modelHealth()) this.set({ model: health.model }, health.healthy);
      },
    }),
    transcodeSeconds: new Histogram({
      name: "imagegen_image_transcode_duration_seconds",
      help: "Time to re-encode one image into the caller's output_format (images already in it are not counted).",
      labelNames: ["format"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    storageWriteSeconds: new Histogram({
      name: "imagegen_storage_write_duration_seconds",
      help: "Time to store one image.",
      labelNames: ["driver", "outcome"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
  return options.enabled ? metrics : withRecordingOff(metrics);
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
