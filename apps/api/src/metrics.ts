import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every metric the API exports, by the names the Grafana dashboard in infra/ uses. */
export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
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
    syncWaiters: new Gauge({
      name: "imagegen_sync_waiters",
      help: "Synchronous requests waiting for their job's result in this API process.",
      registers: [registry],
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
