import { describe, expect, it } from "vitest";
import { backoffDelayMs, toServiceError, withRetries } from "./retry.js";
import { UpstreamAttemptError } from "./upstream.js";

const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
const noSleep = { sleep: async () => {}, random: () => 0.5 };
const farDeadline = () => Date.now() + 60_000;

function failing(errors: UpstreamAttemptError[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    attempt: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return "ok";
    },
  };
}

describe("upstream retries", () => {
  it("retries 429, 5xx and connection errors, then succeeds", async () => {
    const upstream = failing([
      new UpstreamAttemptError("http", "busy", { status: 429 }),
      new UpstreamAttemptError("connection", "refused"),
    ]);
    await expect(withRetries(policy, farDeadline(), new AbortController().signal, upstream.attempt, noSleep)).resolves.toBe("ok");
    expect(upstream.calls).toBe(3);
  });

  it("does not retry the caller's own mistakes or garbage replies", async () => {
    for (const error of [
      new UpstreamAttemptError("http", "bad", { status: 400 }),
      new UpstreamAttemptError("invalid_response", "garbage"),
    ]) {
      const upstream = failing([error]);
      await expect(withRetries(policy, farDeadline(), new AbortController().signal, upstream.attempt, noSleep)).rejects.toBe(error);
      expect(upstream.calls).toBe(1);
    }
  });

  it("stops after maxAttempts and rethrows the last failure", async () => {
    const errors = [1, 2, 3, 4].map((i) => new UpstreamAttemptError("http", `fail ${i}`, { status: 503 }));
    const upstream = failing(errors);
    await expect(withRetries(policy, farDeadline(), new AbortController().signal, upstream.attempt, noSleep)).rejects.toBe(errors[2]);
    expect(upstream.calls).toBe(3);
  });

  it("waits what Retry-After asks instead of its own backoff", async () => {
    const delays: number[] = [];
    const upstream = failing([new UpstreamAttemptError("http", "busy", { status: 429, retryAfterMs: 2500 })]);
    await withRetries(policy, farDeadline(), new AbortController().signal, upstream.attempt, {
      ...noSleep,
      onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
    });
    expect(delays).toEqual([2500]);
  });

  it("fails over at once, without this server's Retry-After, and retries garbage elsewhere", async () => {
    const delays: number[] = [];
    const upstream = failing([
      new UpstreamAttemptError("http", "busy", { status: 429, retryAfterMs: 30_000 }),
      new UpstreamAttemptError("invalid_response", "garbage"),
    ]);
    await withRetries(policy, Date.now() + 5000, new AbortController().signal, upstream.attempt, {
      ...noSleep,
      canFailOver: () => true,
      onRetry: (_error, _attempt, delayMs) => delays.push(delayMs),
    });
    expect(upstream.calls).toBe(3);
    expect(delays).toEqual([50, 100]);
  });

  it("gives up rather than sleep past the request's deadline", async () => {
    const upstream = failing([new UpstreamAttemptError("http", "busy", { status: 429, retryAfterMs: 30_000 })]);
    await expect(withRetries(policy, Date.now() + 1000, new AbortController().signal, upstream.attempt, noSleep)).rejects.toThrow("busy");
    expect(upstream.calls).toBe(1);
  });

  it("draws backoff with full jitter below an exponentially growing, capped ceiling", () => {
    expect(backoffDelayMs(policy, 1, () => 0.999)).toBeLessThan(100);
    expect(backoffDelayMs(policy, 3, () => 0.999)).toBeLessThan(400);
    expect(backoffDelayMs(policy, 3, () => 0.999)).toBeGreaterThanOrEqual(399);
    expect(backoffDelayMs(policy, 10, () => 0.999)).toBeLessThan(1000);
    expect(backoffDelayMs(policy, 10, () => 0)).toBe(0);
  });
});

describe("final upstream failure as the caller sees it", () => {
  it.each([
    [new UpstreamAttemptError("http", "", { status: 400, upstreamMessage: "prompt rejected" }), "invalid_payload", 400],
    [new UpstreamAttemptError("http", "", { status: 429, retryAfterMs: 4000 }), "upstream_unavailable", 503],
    [new UpstreamAttemptError("http", "", { status: 500 }), "upstream_unavailable", 503],
    [new UpstreamAttemptError("http", "", { status: 401 }), "upstream_unavailable", 503],
    [new UpstreamAttemptError("connection", "refused"), "upstream_unavailable", 503],
    [new UpstreamAttemptError("invalid_response", "garbage"), "upstream_invalid_response", 502],
    [new UpstreamAttemptError("timeout", "slow"), "upstream_timeout", 504],
    [new UpstreamAttemptError("http", "", { status: 418 }), "upstream_invalid_response", 502],
  ])("%s → %s", (error, code, status) => {
    const mapped = toServiceError(error);
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
  });

  it("keeps the upstream's reason for a refused prompt and its Retry-After for overload", () => {
    expect(toServiceError(new UpstreamAttemptError("http", "", { status: 400, upstreamMessage: "prompt rejected" })).message).toContain(
      "prompt rejected",
    );
    expect(toServiceError(new UpstreamAttemptError("http", "", { status: 429, retryAfterMs: 4000 })).retryAfterSeconds).toBe(4);
  });
});
