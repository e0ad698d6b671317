import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Every metric the worker exports, by the names the Grafana dashboard in
 * infra/ uses. Buckets span tens of milliseconds to minutes: image work.
 */
const IMAGE_WORK_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

export interface UpstreamUsage {
  upstream: string;
  protocol: string;
  inFlight: number;
  capacity: number;
}

export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Slot usage is read at scrape time from whoever owns the slots.
  let upstreamUsage: () => UpstreamUsage[] = () => [];
  return {
    registry,
    readUpstreamUsageFrom(source: () => UpstreamUsage[]) {
      upstreamUsage = source;
    },
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
    queueWaitSeconds: new Histogram({
      name: "imagegen_queue_wait_seconds",
      help: "Time a job waited in the queue before a worker took it.",
      labelNames: ["kind"] as const,
      buckets: IMAGE_WORK_BUCKETS_SECONDS,
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
      help: "Configured concurrent request slots per upstream (per worker process).",
      labelNames: ["upstream", "protocol"] as const,
      registers: [registry],
      collect() {
        for (const usage of upstreamUsage()) this.set({ upstream: usage.upstream, protocol: usage.protocol }, usage.capacity);
      },
    }),
    storageWriteSeconds: new Histogram({
      name: "imagegen_storage_write_duration_seconds",
      help: "Time to store one image.",
      labelNames: ["driver", "outcome"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
