import { GENERATE_IMAGE_QUEUE, QUEUE_DEPTH_STATES, withRecordingOff, type BatchStatusCounts, type QueueDepthReader } from "@imagegen/shared";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Every metric the API exports, by the names the Grafana dashboard in infra/
 * uses. `enabled: false` (METRICS_ENABLED=false) keeps the same objects but
 * records nothing and collects no process metrics.
 */
export function createApiMetrics(options: { enabled: boolean } = { enabled: true }) {
  const registry = new Registry();
  if (options.enabled) collectDefaultMetrics({ register: registry });
  // Queue depth and batch counts are read at scrape time (cached) from whoever owns the queues.
  let queueDepth: QueueDepthReader | undefined;
  let batchCounts: BatchStatusCounts | undefined;
  let jobsHeldForGpu: (() => Promise<number>) | undefined;
  let queuedByWorkspace: (() => Promise<Map<string, number>>) | undefined;
  const metrics = {
    registry,
    readQueueDepthFrom(reader: QueueDepthReader) {
      queueDepth = reader;
    },
    readBatchCountsFrom(reader: BatchStatusCounts) {
      batchCounts = reader;
    },
    readJobsHeldForGpuFrom(reader: () => Promise<number>) {
      jobsHeldForGpu = reader;
    },
    readQueuedByWorkspaceFrom(reader: () => Promise<Map<string, number>>) {
      queuedByWorkspace = reader;
    },
    httpRequests: new Counter({
      name: "imagegen_http_requests_total",
      help: "HTTP requests answered, by route template, method and status.",
      labelNames: ["route", "method", "status"] as const,
      registers: [registry],
    }),
    httpRequestSeconds: new Histogram({
      name: "imagegen_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by route template, method and status.",
      labelNames: ["route", "method", "status"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    apiErrors: new Counter({
      name: "imagegen_api_errors_total",
      help: "Error responses by public error code.",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "imagegen_rate_limited_total",
      help: "Requests refused with 429, by workspace and the limit that refused them (auth_failures: by client address, before a workspace is known).",
      labelNames: ["workspace", "limit"] as const,
      registers: [registry],
    }),
    syncWaiters: new Gauge({
      name: "imagegen_sync_waiters",
      help: "Synchronous requests waiting for their job's result in this API process.",
      registers: [registry],
    }),
    // Every API replica reports the same queue and batch values (they read
    // the same Redis): dashboards and alerts aggregate them with max(), not sum().
    queueJobs: new Gauge({
      name: "imagegen_queue_jobs",
      help: "Jobs in each BullMQ queue by state (waiting, active, delayed, prioritized, failed); read from Redis at most every few seconds.",
      labelNames: ["queue", "state"] as const,
      registers: [registry],
      async collect() {
        if (!queueDepth) return;
        try {
          for (const depth of await queueDepth.read()) {
            for (const state of QUEUE_DEPTH_STATES) this.set({ queue: depth.queue, state }, depth.jobs[state]);
          }
        } catch {
          this.reset(); // Redis away: no series rather than stale ones; the API's own 503s tell the story.
        }
      },
    }),
    queueOldestWaitingAge: new Gauge({
      name: "imagegen_queue_oldest_waiting_age_seconds",
      help: "Age of the job at the head of each queue's line (wait list or prioritized set); 0 when nothing waits.",
      labelNames: ["queue"] as const,
      registers: [registry],
      async collect() {
        if (!queueDepth) return;
        try {
          for (const depth of await queueDepth.read()) this.set({ queue: depth.queue }, depth.oldestWaitingAgeSeconds);
        } catch {
          this.reset();
        }
      },
    }),
    gpuBacklog: new Gauge({
      name: "imagegen_gpu_backlog_jobs",
      help: "Generations waiting for a GPU: queued (wait list, prioritized, and delayed: held for fair sharing or backing off) plus taken by a worker but not yet started. The autoscaling signal.",
      registers: [registry],
      async collect() {
        if (!queueDepth || !jobsHeldForGpu) return;
        try {
          const [depths, held] = await Promise.all([queueDepth.read(), jobsHeldForGpu()]);
          const generate = depths.find((depth) => depth.queue === GENERATE_IMAGE_QUEUE);
          this.set((generate ? generate.jobs.waiting + generate.jobs.prioritized + generate.jobs.delayed : 0) + held);
        } catch {
          this.reset();
        }
      },
    }),
    workspaceQueued: new Gauge({
      name: "imagegen_workspace_queued_jobs",
      help: "Generate-image jobs held for fair sharing, by workspace (workspaces with none are absent). Read from Redis at most every 2 s.",
      labelNames: ["workspace"] as const,
      registers: [registry],
      async collect() {
        if (!queuedByWorkspace) return;
        try {
          const queued = await queuedByWorkspace();
          // A workspace whose lanes emptied must drop out, not keep its last count.
          this.reset();
          for (const [workspace, count] of queued) this.set({ workspace }, count);
        } catch {
          this.reset();
        }
      },
    }),
    batches: new Gauge({
      name: "imagegen_batches",
      help: "Batches kept (7 days after they end) by status; read from the batch records at most every 15 s.",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        if (!batchCounts) return;
        try {
          for (const [status, count] of Object.entries(await batchCounts.read())) this.set({ status }, count);
        } catch {
          this.reset();
        }
      },
    }),
  };
  return options.enabled ? metrics : withRecordingOff(metrics);
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
