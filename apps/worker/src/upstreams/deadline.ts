/**
 * An abort signal that fires after `ms`, with a way to cancel its timer once
 * the work is done. AbortSignal.timeout() keeps its timer (and everything
 * reachable from the signal) alive until it fires: per request, with
 * deadlines of minutes and hundreds of requests a second, that is a large
 * heap held for nothing.
 */
export function deadlineSignal(ms: number, reason = "deadline"): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(reason, "TimeoutError")), Math.max(0, ms));
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
