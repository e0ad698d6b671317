import type { FaultOptions } from "./config.js";

/**
 * mulberry32: a tiny, fast PRNG; plenty for reproducible fault sequences and
 * palettes from a seed. Returns floats in [0, 1).
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type RandomFaultKind = "error" | "rateLimit" | "hang" | "reset" | "garbage";

export type Fault =
  | { kind: "failFirst"; status: number; attempt: number }
  | { kind: RandomFaultKind };

/**
 * One draw per kind, in a fixed order, and always all five draws: the PRNG then
 * advances by the same amount for every request whatever the rates, so a given
 * seed yields the same fault sequence even after setFaults changes one rate.
 */
export function drawRandomFault(faults: FaultOptions, random: () => number): RandomFaultKind | null {
  const rates: ReadonlyArray<readonly [RandomFaultKind, number]> = [
    ["error", faults.errorRate],
    ["rateLimit", faults.rateLimitRate],
    ["hang", faults.hangRate],
    ["reset", faults.resetRate],
    ["garbage", faults.garbageRate],
  ];
  let chosen: RandomFaultKind | null = null;
  for (const [kind, rate] of rates) {
    const draw = random();
    if (chosen === null && draw < rate) chosen = kind;
  }
  return chosen;
}

export interface FaultInjector {
  /** Decides the fault (or null) for one admitted generation request. */
  decide(faults: FaultOptions, prompt: string): Fault | null;
  /** Forgets per-prompt attempts only. */
  clearAttempts(): void;
  /** Forgets per-prompt attempts and reseeds the PRNG, so a run after reset replays the same sequence. */
  reset(): void;
}

// Bounds memory when a benchmark sends millions of distinct prompts with failFirst on.
const MAX_TRACKED_PROMPTS = 100_000;

export function createFaultInjector(seed: number): FaultInjector {
  let random = createSeededRandom(seed);
  const attemptsByPrompt = new Map<string, number>();

  function nextAttempt(prompt: string): number {
    const attempt = (attemptsByPrompt.get(prompt) ?? 0) + 1;
    attemptsByPrompt.delete(prompt);
    attemptsByPrompt.set(prompt, attempt);
    if (attemptsByPrompt.size > MAX_TRACKED_PROMPTS) {
      const oldest = attemptsByPrompt.keys().next();
      if (!oldest.done) attemptsByPrompt.delete(oldest.value);
    }
    return attempt;
  }

  return {
    decide(faults, prompt) {
      // Attempts are only tracked while the fault is on, so turning it on later starts every prompt at attempt 1.
      if (faults.failFirstAttemptsPerPrompt > 0) {
        const attempt = nextAttempt(prompt);
        if (attempt <= faults.failFirstAttemptsPerPrompt) return { kind: "failFirst", status: faults.failStatus, attempt };
      }
      const kind = drawRandomFault(faults, random);
      return kind === null ? null : { kind };
    },
    clearAttempts() {
      attemptsByPrompt.clear();
    },
    reset() {
      attemptsByPrompt.clear();
      random = createSeededRandom(seed);
    },
  };
}
