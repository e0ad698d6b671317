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

/** One sample of the text format: `name{label="value",…} number`. */
export interface MetricSample {
  name: string;
  labels: Map<string, string>;
  value: number;
}

export function parseSamples(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(pair[1]!, pair[2]!);
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

export async function scrapeSamples(url: string): Promise<MetricSample[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return parseSamples(await response.text());
}

/** Sums the samples named `name` by the value of `label` (e.g. jobs started per workspace). */
export function sumByLabel(samples: readonly MetricSample[], name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    const key = sample.labels.get(label);
    if (sample.name !== name || key === undefined) continue;
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return sums;
}

/** Sums the samples named `name` whose labels include every pair of `match`. */
export function sumWhere(samples: readonly MetricSample[], name: string, match: Record<string, string>): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name === name && Object.entries(match).every(([label, value]) => sample.labels.get(label) === value)) sum += sample.value;
  }
  return sum;
}
