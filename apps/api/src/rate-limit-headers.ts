/**
 * OpenAI's rate-limit headers. Resets are durations written as Go prints
 * them ("20ms", "1s", "6m0s", "1h2m3s"), which is what OpenAI sends and what
 * its SDKs and clients parse.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  // Up to millisecond precision, trailing zeros trimmed: 1.5s, 7.66s, 2s.
  const seconds = `${(secondsMs / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** A counter's state as the headers report it. */
export interface WindowState {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,images}` for the windows that apply. */
export function rateLimitHeaders(windows: { requests?: WindowState | undefined; images?: WindowState | undefined }): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [unit, state] of Object.entries(windows)) {
    if (!state) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(state.limit);
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, state.remaining));
    headers[`x-ratelimit-reset-${unit}`] = formatResetDuration(state.resetMs);
  }
  return headers;
}

/** Of several windows counting the same unit (workspace's, key's), the one closest to refusing. */
export function tightest(states: readonly WindowState[]): WindowState | undefined {
  let best: WindowState | undefined;
  for (const state of states) {
    if (!best || state.remaining < best.remaining || (state.remaining === best.remaining && state.resetMs > best.resetMs)) best = state;
  }
  return best;
}
