import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import type { BullMQOtel } from "bullmq-otel";

/**
 * OpenTelemetry tracing: off unless the standard OTEL_* variables ask for it.
 * Spans are made by hand (an HTTP server span per API request, BullMQ's
 * producer and consumer spans through bullmq-otel, an upstream client span),
 * so no auto-instrumentation has to load before other modules; calling
 * startTelemetry first in main() is enough. Without an SDK registered, the
 * span helpers below use OpenTelemetry's no-op tracer.
 */
export interface Telemetry {
  enabled: boolean;
  /** Pass as `telemetry` to BullMQ's Queue and Worker; undefined when tracing is off. */
  bullmq: BullMQOtel | undefined;
  /** Flushes spans still buffered; call last in a graceful shutdown. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

const exportersOf = (env: Env) =>
  (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);

/** On with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or OTEL_TRACES_EXPORTER (not `none`); OTEL_SDK_DISABLED=true wins. */
export function tracingRequested(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporters = exportersOf(env);
  if (exporters.length > 0) return !exporters.every((name) => name === "none");
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

const OFF: Telemetry = { enabled: false, bullmq: undefined, shutdown: async () => {} };

export async function startTelemetry(serviceName: string, env: Env): Promise<Telemetry> {
  if (!tracingRequested(env)) return OFF;
  // Loaded only when on: the SDK and its exporters are heavy for a process that does not trace.
  const [{ NodeSDK }, { OTLPTraceExporter }, { BullMQOtel }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("bullmq-otel"),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    // With only an endpoint set, OTLP over HTTP; OTEL_TRACES_EXPORTER (otlp, console) picks otherwise.
    ...(exportersOf(env).length === 0 ? { traceExporter: new OTLPTraceExporter() } : {}),
    // Traces only: metrics are Prometheus's, logs are pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return { enabled: true, bullmq: new BullMQOtel("imagegen"), shutdown: () => sdk.shutdown() };
}

const tracer = () => trace.getTracer("imagegen");

/** Runs `fn` inside a span (a child of the active one); failures mark the span as an error. */
export function withSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes }, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

export interface HttpServerSpan {
  traceId: string;
  /** Runs `fn` (the rest of the request's handling) with this span active. */
  run<T>(fn: () => T): T;
  /** Ends the span, named after the route template (never the raw path). */
  end(route: string, statusCode: number): void;
}

/** A server span for one HTTP request, continuing the caller's trace when it sends `traceparent`. */
export function startHttpServerSpan(method: string, headers: Record<string, string | string[] | undefined>): HttpServerSpan {
  const parent = propagation.extract(context.active(), headers);
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { "http.request.method": method } }, parent);
  const active = trace.setSpan(parent, span);
  return {
    traceId: span.spanContext().traceId,
    run: (fn) => context.with(active, fn),
    end(route, statusCode) {
      span.updateName(`${method} ${route}`);
      span.setAttributes({ "http.route": route, "http.response.status_code": statusCode });
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

export { SpanKind };
