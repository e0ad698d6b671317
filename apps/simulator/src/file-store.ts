import { randomBytes } from "node:crypto";

export interface FileStore {
  /** Stores the PNG and returns its id, served as /files/<id>.png. */
  put(png: Buffer): string;
  get(id: string): Buffer | undefined;
}

export interface FileStoreDeps {
  ttlMs: number;
  maxFiles: number;
  nowMs?: () => number;
}

/**
 * In-memory home for `response_format: "url"` images. Bounded by count and age
 * so a long benchmark asking for URLs cannot grow memory without limit; the
 * buffers are usually shared with the image cache anyway.
 */
export function createFileStore({ ttlMs, maxFiles, nowMs = Date.now }: FileStoreDeps): FileStore {
  const files = new Map<string, { png: Buffer; expiresAtMs: number }>();

  function evict(now: number): void {
    // Insertion order is expiry order (fixed TTL), so stop at the first live entry.
    for (const [id, file] of files) {
      if (files.size <= maxFiles && file.expiresAtMs > now) break;
      files.delete(id);
    }
  }

  return {
    put(png) {
      const id = randomBytes(12).toString("hex");
      const now = nowMs();
      files.set(id, { png, expiresAtMs: now + ttlMs });
      evict(now);
      return id;
    },
    get(id) {
      const file = files.get(id);
      if (file === undefined) return undefined;
      if (file.expiresAtMs <= nowMs()) {
        files.delete(id);
        return undefined;
      }
      return file.png;
    },
  };
}
