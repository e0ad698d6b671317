/**
 * METRICS_ENABLED=false: every metric of the object keeps its type but
 * records nothing, so call sites stay unconditional and the benchmark's
 * "off" side pays no instrumentation at all (not even label hashing).
 * Works on prom-client Counter, Gauge, Histogram and Summary instances by
 * shadowing their recording methods; shared does not depend on prom-client.
 */
const noop = () => {};
const noopTimer = () => () => 0;
const NOOP_CHILD = { inc: noop, dec: noop, set: noop, observe: noop, setToCurrentTime: noop, startTimer: noopTimer };
const RECORDING_METHODS = ["inc", "dec", "set", "observe", "setToCurrentTime", "reset", "remove"] as const;

export function withRecordingOff<T extends object>(metrics: T): T {
  for (const value of Object.values(metrics)) {
    if (typeof value !== "object" || value === null || !("labelNames" in value)) continue;
    const metric = value as Record<string, unknown>;
    for (const method of RECORDING_METHODS) if (typeof metric[method] === "function") metric[method] = noop;
    if (typeof metric.startTimer === "function") metric.startTimer = noopTimer;
    if (typeof metric.labels === "function") metric.labels = () => NOOP_CHILD;
  }
  return metrics;
}
