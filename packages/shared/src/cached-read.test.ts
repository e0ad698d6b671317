import { describe, expect, it } from "vitest";
import { cachedRead } from "./cached-read.js";

describe("a cached read", () => {
  it("reads once per max age however often it is asked, and again after", async () => {
    let nowMs = 0;
    let reads = 0;
    const read = cachedRead(2000, async () => ++reads, () => nowMs);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    nowMs = 1999;
    expect(await read()).toBe(1);
    nowMs = 2000;
    expect(await read()).toBe(2);
  });

  it("does not keep a failed read: the next ask tries again", async () => {
    let fail = true;
    const read = cachedRead(60_000, async () => {
      if (fail) throw new Error("redis away");
      return "ok";
    });
    await expect(read()).rejects.toThrow("redis away");
    fail = false;
    expect(await read()).toBe("ok");
  });
});
