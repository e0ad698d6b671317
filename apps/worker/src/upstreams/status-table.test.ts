import { describe, expect, it } from "vitest";
import { isRetryable, toServiceError } from "./retry.js";
import { verdictOf } from "./router.js";
import { UpstreamAttemptError } from "./upstream.js";

const http = (status: number, details: { retryAfterMs?: number; upstreamMessage?: string } = {}) =>
  new UpstreamAttemptError("http", `upstream answered ${status}`, { status, ...details });

/** What the retry loop, the circuit breaker and the caller each make of one failure. */
function readings(error: UpstreamAttemptError) {
  const mapped = toServiceError(error);
  return { retryable: isRetryable(error), breaker: verdictOf(error), code: mapped.code, retryAfterSeconds: mapped.retryAfterSeconds, message: mapped.message };
}

describe("upstream status table", () => {
  it("treats 503 as a sick server: retried, counted against its breaker, upstream_unavailable with its Retry-After", () => {
    expect(readings(http(503, { retryAfterMs: 2100 }))).toMatchObject({ retryable: true, breaker: "failure", code: "upstream_unavailable", retryAfterSeconds: 3 });
  });

  it("treats 429 as back-pressure: retried, breaker untouched, upstream_unavailable with its Retry-After", () => {
    expect(readings(http(429, { retryAfterMs: 4000 }))).toMatchObject({ retryable: true, breaker: "neutral", code: "upstream_unavailable", retryAfterSeconds: 4 });
  });

  it("hands 400, 413 and 422 back to the caller in the model's own words, without blaming the server", () => {
    for (const status of [400, 413, 422]) {
      const reading = readings(http(status, { upstreamMessage: "prompt violates the content policy" }));
      expect(reading, String(status)).toMatchObject({ retryable: false, breaker: "neutral", code: "invalid_payload", retryAfterSeconds: undefined });
      expect(reading.message).toBe("The model rejected the request: prompt violates the content policy");
    }
    expect(readings(http(400, { upstreamMessage: "x".repeat(1000) })).message).toHaveLength("The model rejected the request: ".length + 300);
  });

  it("retries 408 and reports it as upstream_timeout, without Retry-After", () => {
    expect(readings(http(408, { retryAfterMs: 5000 }))).toMatchObject({ retryable: true, breaker: "failure", code: "upstream_timeout", retryAfterSeconds: undefined });
  });

  it("does not retry a server that refuses our credentials or route, and calls it unavailable", () => {
    for (const status of [401, 403, 404]) {
      expect(readings(http(status)), String(status)).toMatchObject({ retryable: false, breaker: "failure", code: "upstream_unavailable" });
    }
  });

  it("reads any other status, or none, as a server that does not speak the protocol", () => {
    for (const status of [0, 302, 405, 409, 418]) {
      expect(readings(http(status, { retryAfterMs: 1000, upstreamMessage: "no" })), String(status)).toMatchObject({
        retryable: false,
        breaker: "failure",
        code: "upstream_invalid_response",
        retryAfterSeconds: undefined,
      });
    }
    expect(readings(new UpstreamAttemptError("http", "no status")).code).toBe("upstream_invalid_response");
  });

  it("maps failures below HTTP by their kind, never passing a Retry-After on", () => {
    const kinds = [
      ["connection", { retryable: true, breaker: "failure", code: "upstream_unavailable" }],
      ["timeout", { retryable: true, breaker: "failure", code: "upstream_timeout" }],
      ["invalid_response", { retryable: false, breaker: "failure", code: "upstream_invalid_response" }],
    ] as const;
    for (const [kind, expected] of kinds) {
      expect(readings(new UpstreamAttemptError(kind, "x", { retryAfterMs: 3000 })), kind).toMatchObject({ ...expected, retryAfterSeconds: undefined });
    }
  });

  it("retries exactly 408, 429 and every 5xx, and spares the breaker exactly for 400, 413, 422 and 429", () => {
    for (let status = 100; status < 700; status++) {
      const reading = readings(http(status));
      expect(reading.retryable, String(status)).toBe(status === 408 || status === 429 || status >= 500);
      expect(reading.breaker, String(status)).toBe([400, 413, 422, 429].includes(status) ? "neutral" : "failure");
    }
  });
});
