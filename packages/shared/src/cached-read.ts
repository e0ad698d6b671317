/**
 * A read that is done at most once per `maxAgeMs` however often it is asked
 * for (a Prometheus scrape storm costs Redis nothing more), with callers in
 * the meantime sharing the one in flight. A failed read is not kept: the
 * next ask tries again.
 */
export function cachedRead<T>(maxAgeMs: number, read: (nowMs: number) => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let cached: { atMs: number; value: Promise<T> } | undefined;
  return () => {
    const nowMs = now();
    if (cached && nowMs - cached.atMs < maxAgeMs) return cached.value;
    const entry = { atMs: nowMs, value: read(nowMs) };
    cached = entry;
    entry.value.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.value;
  };
}
