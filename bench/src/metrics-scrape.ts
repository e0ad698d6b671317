// Reads histogram totals (_sum, _count) from the services' Prometheus
// endpoints, so a run can split the service's latency into stages using the
// services' own timers rather than guesses.

export interface HistogramTotal {
  sumSeconds: number;
  count: number;
}

export type HistogramTotals = Record<string, HistogramTotal>;

/** Sums each named histogram over all its label sets. */
export function parseHistogramTotals(text: string, names: readonly string[]): HistogramTotals {
  const totals: HistogramTotals = {};
  for (const name of names) totals[name] = { sumSeconds: 0, count: 0 };
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)_(sum|count)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const total = totals[match[1]!];
    if (total === undefined) continue;
    if (match[2] === "sum") total.sumSeconds += Number(match[3]);
    else total.count += Number(match[3]);
  }
  return totals;
}

export async function scrapeHistogramTotals(url: string, names: readonly string[]): Promise<HistogramTotals> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return parseHistogramTotals(await response.text(), names);
}

export function histogramDelta(before: HistogramTotals, after: HistogramTotals): HistogramTotals {
  const delta: HistogramTotals = {};
  for (const [name, total] of Object.entries(after)) {
    const earlier = before[name] ?? { sumSeconds: 0, count: 0 };
    delta[name] = { sumSeconds: total.sumSeconds - earlier.sumSeconds, count: total.count - earlier.count };
  }
  return delta;
}

export function addHistogramTotals(into: HistogramTotals, next: HistogramTotals): void {
  for (const [name, total] of Object.entries(next)) {
    const existing = (into[name] ??= { sumSeconds: 0, count: 0 });
    existing.sumSeconds += total.sumSeconds;
    existing.count += total.count;
  }
}

/** Mean observation in ms; NaN when nothing was observed. */
export function meanMs(totals: HistogramTotals, name: string): number {
  const total = totals[name];
  return total === undefined || total.count === 0 ? Number.NaN : (total.sumSeconds / total.count) * 1000;
}
