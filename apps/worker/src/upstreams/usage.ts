/** One upstream as this worker sees it right now: slots, breaker and health. Read by metrics and readiness. */
export interface UpstreamUsage {
  upstream: string;
  protocol: string;
  inFlight: number;
  capacity: number;
  circuitState: "closed" | "half_open" | "open";
  /** In rotation: passing its probes and its circuit not open. */
  healthy: boolean;
}
