import type { ImageStore } from "@imagegen/storage";
import { describe, expect, it } from "vitest";
import { putDurably } from "./durable-put.js";

/** An in-memory store that is down for its first `outages` writes. */
function storeDownFor(outages: number) {
  const objects = new Map<string, Buffer>();
  let attempts = 0;
  const store: ImageStore = {
    driver: "fs",
    async put(key, body) {
      attempts++;
      if (attempts <= outages) throw new Error("connect ECONNREFUSED");
      objects.set(key, body);
    },
    putFile: async () => {
      throw new Error("not used here");
    },
    get: async (key) => objects.get(key)!,
    delete: async (key) => void objects.delete(key),
    signedUrl: async () => "",
    ping: async () => {},
    close: async () => {},
  };
  return { store, objects, attempts: () => attempts };
}

describe("durable image writes", () => {
  it("rides out a storage outage and stores the image once it is back", async () => {
    const { store, objects, attempts } = storeDownFor(3);
    await putDurably(store, "k", Buffer.from("png"), "image/png", { deadlineAt: Date.now() + 10_000, baseDelayMs: 1, maxDelayMs: 5 });
    expect(objects.get("k")?.toString()).toBe("png");
    expect(attempts()).toBe(4);
  });

  it("gives up when the next attempt would overrun the request's deadline", async () => {
    const { store, objects } = storeDownFor(Infinity);
    const started = Date.now();
    await expect(putDurably(store, "k", Buffer.from("png"), "image/png", { deadlineAt: started + 200, baseDelayMs: 20, maxDelayMs: 50 })).rejects.toThrow("ECONNREFUSED");
    expect(objects.size).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("leaves a write that never answers when the request's deadline passes", async () => {
    let seenSignal: AbortSignal | undefined;
    const store: ImageStore = {
      ...storeDownFor(0).store,
      // A store that accepted the write and never answers: only the signal ends it.
      put: (_key, _body, _contentType, signal) =>
        new Promise((_resolve, reject) => {
          seenSignal = signal;
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    };
    await expect(putDurably(store, "k", Buffer.from("png"), "image/png", { deadlineAt: Date.now() + 200 })).rejects.toThrow("deadline");
    expect(seenSignal?.aborted).toBe(true);
  });
});
