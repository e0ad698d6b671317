export interface ByteLruCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V, sizeBytes: number): void;
  readonly sizeBytes: number;
  readonly count: number;
}

/**
 * LRU bounded by total bytes rather than entry count, since one 1024x1024
 * entry weighs as much as thousands of thumbnails. Map keeps insertion order,
 * so re-inserting on hit makes the first key the least recently used.
 */
export function createByteLruCache<V>(maxBytes: number): ByteLruCache<V> {
  const entries = new Map<string, { value: V; sizeBytes: number }>();
  let totalBytes = 0;

  function remove(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    totalBytes -= entry.sizeBytes;
  }

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, sizeBytes) {
      remove(key);
      // An entry bigger than the whole budget would only evict everything else.
      if (sizeBytes > maxBytes) return;
      entries.set(key, { value, sizeBytes });
      totalBytes += sizeBytes;
      for (const oldestKey of entries.keys()) {
        if (totalBytes <= maxBytes) break;
        remove(oldestKey);
      }
    },
    get sizeBytes() {
      return totalBytes;
    },
    get count() {
      return entries.size;
    },
  };
}

export interface EncodedImage {
  /** PNG, unless the simulator answers in another format (SIM_IMAGE_FORMAT) or ran an edit. */
  bytes: Buffer;
  contentType: string;
  /** Kept alongside the bytes: base64 of a 1 MB PNG is a measurable cost at benchmark rates. */
  b64: string;
}
