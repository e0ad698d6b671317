import { describe, expect, it } from "vitest";
import { tracingRequested } from "../telemetry.js";
import { hasMetricsToken } from "./endpoint.js";

describe("metrics token", () => {
  it("opens /metrics to the exact Bearer token only", () => {
    expect(hasMetricsToken("Bearer metrics-token-0123456789", "metrics-token-0123456789")).toBe(true);
    expect(hasMetricsToken("Bearer metrics-token-012345678", "metrics-token-0123456789")).toBe(false);
    expect(hasMetricsToken("Basic bWV0cmljcy10b2tlbg==", "metrics-token-0123456789")).toBe(false);
    expect(hasMetricsToken(undefined, "metrics-token-0123456789")).toBe(false);
  });
});

describe("tracing switch", () => {
  it("is off by default and on with the standard OTEL_* variables", () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" })).toBe(false);
  });
});
