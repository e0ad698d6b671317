import type { CircuitBreakerSpec } from "@imagegen/shared";

export type CircuitState = "closed" | "half_open" | "open";

/** What an attempt says about the upstream's health. */
export type AttemptVerdict = "success" | "failure" | "neutral";

export interface CircuitBreaker {
  /** Open turns half-open by itself once the cool-down has passed. */
  readonly state: CircuitState;
  /** Epoch ms at which an open circuit lets a trial through; undefined unless open. */
  readonly retryAtMs: number | undefined;
  /** Whether an attempt may start now: closed, or half-open with no trial running. */
  canPass(): boolean;
  /** An attempt starts; in half-open it is the one trial. */
  onStart(): void;
  record(verdict: AttemptVerdict): void;
}

export interface CircuitBreakerDeps {
  now?: () => number;
  /** Told every transition, e.g. for metrics and to wake requests waiting for an upstream. */
  onTransition?: (from: CircuitState, to: CircuitState) => void;
}

/**
 * A per-upstream circuit breaker: a small state machine instead of a
 * library. Counts-based sliding window plus a consecutive-failure trip, so
 * a dead server is cut off after a few attempts and a flaky one once its
 * recent failure rate crosses the threshold.
 */
export function createCircuitBreaker(spec: CircuitBreakerSpec, deps: CircuitBreakerDeps = {}): CircuitBreaker {
  const now = deps.now ?? Date.now;
  let stored: CircuitState = "closed";
  let openedAtMs = 0;
  let consecutiveFailures = 0;
  let trialRunning = false;
  // Ring buffer of the last window_size verdicts (true = failed).
  const window: boolean[] = [];
  let windowNext = 0;

  function transition(to: CircuitState): void {
    const from = stored;
    if (from === to) return;
    stored = to;
    if (to === "open") openedAtMs = now();
    if (to !== "half_open") trialRunning = false;
    if (to === "closed") {
      consecutiveFailures = 0;
      window.length = 0;
      windowNext = 0;
    }
    deps.onTransition?.(from, to);
  }

  function current(): CircuitState {
    if (stored === "open" && now() >= openedAtMs + spec.cooldown_ms) transition("half_open");
    return stored;
  }

  function remember(failed: boolean): void {
    if (window.length < spec.window_size) window.push(failed);
    else window[windowNext] = failed;
    windowNext = (windowNext + 1) % spec.window_size;
  }

  function tripped(): boolean {
    if (consecutiveFailures >= spec.consecutive_failures) return true;
    if (window.length < spec.min_requests) return false;
    return window.filter(Boolean).length / window.length >= spec.failure_rate;
  }

  return {
    get state() {
      return current();
    },
    get retryAtMs() {
      return current() === "open" ? openedAtMs + spec.cooldown_ms : undefined;
    },
    canPass() {
      const state = current();
      return state === "closed" || (state === "half_open" && !trialRunning);
    },
    onStart() {
      if (current() === "half_open") trialRunning = true;
    },
    record(verdict) {
      const state = current();
      if (state === "open") return; // a late answer to an attempt started before the trip
      if (state === "half_open") {
        if (verdict === "success") transition("closed");
        else if (verdict === "failure") transition("open");
        else trialRunning = false;
        return;
      }
      if (verdict === "neutral") return;
      consecutiveFailures = verdict === "failure" ? consecutiveFailures + 1 : 0;
      remember(verdict === "failure");
      if (tripped()) transition("open");
    },
  };
}
