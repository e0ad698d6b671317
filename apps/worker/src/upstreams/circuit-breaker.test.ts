import { describe, expect, it } from "vitest";
import { createCircuitBreaker, type CircuitState } from "./circuit-breaker.js";

const spec = { consecutive_failures: 3, failure_rate: 0.5, window_size: 10, min_requests: 6, cooldown_ms: 1000 };

function breaker() {
  let nowMs = 0;
  const transitions: string[] = [];
  const cb = createCircuitBreaker(spec, {
    now: () => nowMs,
    onTransition: (from: CircuitState, to: CircuitState) => transitions.push(`${from}->${to}`),
  });
  return { cb, transitions, advance: (ms: number) => (nowMs += ms) };
}

describe("circuit breaker", () => {
  it("opens after consecutive failures and refuses attempts until the cool-down ends", () => {
    const { cb, advance } = breaker();
    cb.record("failure");
    cb.record("failure");
    expect(cb.state).toBe("closed");
    cb.record("failure");
    expect(cb.state).toBe("open");
    expect(cb.canPass()).toBe(false);
    expect(cb.retryAtMs).toBe(1000);
    advance(999);
    expect(cb.canPass()).toBe(false);
    advance(1);
    expect(cb.state).toBe("half_open");
  });

  it("opens when the failure rate over the window crosses the threshold, with no long streak", () => {
    const { cb } = breaker();
    for (const verdict of ["failure", "success", "failure", "success", "failure", "success"] as const) cb.record(verdict);
    expect(cb.state).toBe("open");
  });

  it("does not judge the rate before min_requests attempts", () => {
    const { cb } = breaker();
    for (const verdict of ["failure", "success", "failure", "success", "failure"] as const) cb.record(verdict);
    expect(cb.state).toBe("closed");
  });

  it("lets exactly one trial through when half-open: success closes, failure reopens", () => {
    const { cb, advance, transitions } = breaker();
    for (let i = 0; i < 3; i++) cb.record("failure");
    advance(1000);
    expect(cb.canPass()).toBe(true);
    cb.onStart();
    expect(cb.canPass()).toBe(false);
    cb.record("failure");
    expect(cb.state).toBe("open");
    advance(1000);
    cb.onStart();
    cb.record("success");
    expect(cb.state).toBe("closed");
    expect(transitions).toEqual(["closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"]);
  });

  it("ignores back-pressure and the caller's own mistakes, but frees the trial slot", () => {
    const { cb, advance } = breaker();
    for (let i = 0; i < 10; i++) cb.record("neutral");
    expect(cb.state).toBe("closed");
    for (let i = 0; i < 3; i++) cb.record("failure");
    advance(1000);
    cb.onStart();
    cb.record("neutral");
    expect(cb.state).toBe("half_open");
    expect(cb.canPass()).toBe(true);
  });

  it("forgets old failures once closed again", () => {
    const { cb, advance } = breaker();
    for (let i = 0; i < 3; i++) cb.record("failure");
    advance(1000);
    cb.onStart();
    cb.record("success");
    cb.record("failure");
    cb.record("failure");
    expect(cb.state).toBe("closed");
  });
});
