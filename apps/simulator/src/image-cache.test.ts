import { describe, expect, it } from "vitest";
import { createFileStore } from "./file-store.js";
import { createByteLruCache } from "./image-cache.js";

describe("createByteLruCache", () => {
  it("evicts least recently used entries once the byte budget is exceeded", () => {
    const cache = createByteLruCache<string>(100);
    cache.set("a", "A", 40);
    cache.set("b", "B", 40);
    expect(cache.get("a")).toBe("A"); // a is now the most recent
    cache.set("c", "C", 40);

    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("A");
    expect(cache.get("c")).toBe("C");
    expect(cache.sizeBytes).toBe(80);
  });

  it("does not cache an entry bigger than the whole budget", () => {
    const cache = createByteLruCache<string>(100);
    cache.set("small", "s", 10);
    cache.set("huge", "h", 101);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.get("small")).toBe("s");
  });

  it("replaces an entry without double-counting its bytes", () => {
    const cache = createByteLruCache<string>(100);
    cache.set("a", "1", 60);
    cache.set("a", "2", 70);
    expect(cache.get("a")).toBe("2");
    expect(cache.sizeBytes).toBe(70);
    expect(cache.count).toBe(1);
  });
});

describe("createFileStore", () => {
  it("forgets files after their TTL and beyond the count bound", () => {
    let nowMs = 0;
    const store = createFileStore({ ttlMs: 1000, maxFiles: 2, nowMs: () => nowMs });
    const first = store.put(Buffer.from("1"));
    const second = store.put(Buffer.from("2"));
    expect(store.get(first)?.toString()).toBe("1");

    const third = store.put(Buffer.from("3"));
    expect(store.get(first)).toBeUndefined();
    expect(store.get(second)?.toString()).toBe("2");

    nowMs = 1000;
    expect(store.get(third)).toBeUndefined();
  });
});
