export interface SimulatorStats {
  /** Generation requests received (any outcome). */
  requests: number;
  /** Generation requests admitted to a slot and not yet answered, hung ones included. */
  inFlight: number;
  /** Highest inFlight since the last reset: proof that no client exceeded its slots. */
  maxInFlight: number;
  /** Images returned in successful responses. */
  images: number;
  responses: {
    ok: number;
    /** Injected 500s and failFirst failures (unless failStatus is 429). */
    error: number;
    /** Injected 429s (and failFirst failures with failStatus 429). */
    rateLimited: number;
    /** 429s because every slot was busy. */
    rejected: number;
    hung: number;
    reset: number;
    garbage: number;
    /** 400 and 413. */
    badRequest: number;
    unauthorized: number;
  };
}

export type ResponseKind = keyof SimulatorStats["responses"];

export function emptyStats(inFlight = 0): SimulatorStats {
  return {
    requests: 0,
    inFlight,
    maxInFlight: inFlight,
    images: 0,
    responses: { ok: 0, error: 0, rateLimited: 0, rejected: 0, hung: 0, reset: 0, garbage: 0, badRequest: 0, unauthorized: 0 },
  };
}

export function copyStats(stats: SimulatorStats): SimulatorStats {
  return { ...stats, responses: { ...stats.responses } };
}
