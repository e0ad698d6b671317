// Closed-loop load generator: `concurrency` callers, each sending its next
// request as soon as the previous answer is fully read, until `requests`
// have been sent (or, for background load, until `signal` aborts). Closed loop on purpose: we measure the latency a caller
// sees at a given number of requests in flight, not an arrival rate the
// service may be unable to sustain.
import { performance } from "node:perf_hooks";
import type { Pool } from "undici";

export interface RequestSpec {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  latenciesMs: number[];
  /** Wall time of the whole run; requests/s = latencies / elapsed. */
  elapsedMs: number;
  /** Non-2xx answers and transport errors, by "HTTP 503: <body start>" or error message. */
  failures: Map<string, number>;
  responseBytes: number;
}

export function emptyResult(): LoadResult {
  return { latenciesMs: [], elapsedMs: 0, failures: new Map(), responseBytes: 0 };
}

export function failureCount(result: LoadResult): number {
  let total = 0;
  for (const count of result.failures.values()) total += count;
  return total;
}

/** Adds `next` to `into`, as if both runs had been one (elapsed times add up). */
export function mergeInto(into: LoadResult, next: LoadResult): void {
  for (const value of next.latenciesMs) into.latenciesMs.push(value);
  into.elapsedMs += next.elapsedMs;
  into.responseBytes += next.responseBytes;
  for (const [reason, count] of next.failures) into.failures.set(reason, (into.failures.get(reason) ?? 0) + count);
}

function recordFailure(failures: Map<string, number>, reason: string): void {
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

/** One request; resolves to the bytes read, or a failure reason. Reads the whole body either way. */
async function sendOnce(pool: Pool, spec: RequestSpec): Promise<{ bytes: number } | { failure: string }> {
  try {
    const { statusCode, body } = await pool.request({ method: "POST", path: spec.path, headers: spec.headers, body: spec.body });
    if (statusCode < 200 || statusCode >= 300) {
      const text = await body.text();
      return { failure: `HTTP ${statusCode}: ${text.slice(0, 160)}` };
    }
    let bytes = 0;
    for await (const chunk of body) bytes += (chunk as Buffer).length;
    return { bytes };
  } catch (error) {
    return { failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

export async function runClosedLoop(
  pool: Pool,
  spec: RequestSpec,
  options: { concurrency: number; requests: number; signal?: AbortSignal },
): Promise<LoadResult> {
  const result = emptyResult();
  let issued = 0;
  const caller = async (): Promise<void> => {
    while (issued < options.requests && !options.signal?.aborted) {
      issued++;
      const startedMs = performance.now();
      const outcome = await sendOnce(pool, spec);
      const tookMs = performance.now() - startedMs;
      if ("failure" in outcome) {
        recordFailure(result.failures, outcome.failure);
      } else {
        result.latenciesMs.push(tookMs);
        result.responseBytes += outcome.bytes;
      }
    }
  };
  const startedMs = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  result.elapsedMs = performance.now() - startedMs;
  return result;
}
