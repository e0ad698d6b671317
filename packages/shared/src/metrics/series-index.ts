/**
 * Where the fast metric recorders (fast-recording.ts) keep their series: one
 * small Map per label name, keyed by the label's value, so an update finds
 * its series without building and hashing a key string.
 */

export type LabelValue = string | number;
export type Labels = Readonly<Record<string, LabelValue | undefined>>;

/** Only the labels given, as prom-client keeps them. */
function definedLabels(labelNames: readonly string[], labels: Labels): Record<string, LabelValue> {
  const kept: Record<string, LabelValue> = {};
  for (const name of labelNames) {
    const value = labels[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** `labels({...})` or `labels(value, value, …)` in label-name order, as prom-client accepts them. */
export function labelsFromArgs(labelNames: readonly string[], args: ReadonlyArray<Labels | LabelValue>): Labels {
  const [first] = args;
  if (typeof first === "object") return first;
  const labels: Record<string, LabelValue | undefined> = {};
  labelNames.forEach((name, index) => {
    const value = args[index];
    if (typeof value !== "object") labels[name] = value;
  });
  return labels;
}

export interface Entry {
  labels: Record<string, LabelValue>;
}

/**
 * The series of one metric, found by label values: one Map level per label
 * name, keyed by the value as a string (prom-client treats 1 and "1" as one
 * series) or undefined when the label is left out. Creation order is kept,
 * as prom-client's exposition keeps it.
 */
export function createSeriesIndex<T extends Entry>(labelNames: readonly string[], create: (labels: Record<string, LabelValue>) => T) {
  type Level = Map<string | undefined, Level | T>;
  let root: Level = new Map();
  let all: T[] = [];
  const keyOf = (value: LabelValue | undefined) => (typeof value === "number" ? String(value) : value);
  const isLevel = (node: Level | T): node is Level => node instanceof Map;

  /** A label's value: from `more` when given there (a timer's end labels), else from `labels`. */
  const valueOf = (name: string, labels: Labels, more: Labels | undefined) => {
    const value = more?.[name];
    return keyOf(value === undefined ? labels[name] : value);
  };

  function leafLevel(labels: Labels, more: Labels | undefined, make: boolean): Level | undefined {
    let level = root;
    for (let depth = 0; depth < labelNames.length - 1; depth++) {
      const key = valueOf(labelNames[depth]!, labels, more);
      let next = level.get(key);
      if (next === undefined) {
        if (!make) return undefined;
        next = new Map();
        level.set(key, next);
      }
      if (!isLevel(next)) throw new Error("label index is inconsistent");
      level = next;
    }
    return level;
  }
  const lastKey = (labels: Labels, more: Labels | undefined) => (labelNames.length === 0 ? undefined : valueOf(labelNames[labelNames.length - 1]!, labels, more));

  return {
    /** The series of `labels`, overridden by `more` where it has a value (no merged object made per call). */
    get(labels: Labels, more?: Labels): T {
      const level = leafLevel(labels, more, true)!;
      const key = lastKey(labels, more);
      const found = level.get(key);
      if (found !== undefined && !isLevel(found)) return found;
      const entry = create(definedLabels(labelNames, more === undefined ? labels : { ...labels, ...more }));
      level.set(key, entry);
      all.push(entry);
      return entry;
    },
    remove(labels: Labels): void {
      const level = leafLevel(labels, undefined, false);
      const key = lastKey(labels, undefined);
      const found = level?.get(key);
      if (!level || found === undefined || isLevel(found)) return;
      level.delete(key);
      all = all.filter((entry) => entry !== found);
    },
    reset(): void {
      root = new Map();
      all = [];
    },
    values(): readonly T[] {
      return all;
    },
  };
}
