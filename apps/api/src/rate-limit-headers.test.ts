import { describe, expect, it } from "vitest";
import { formatResetDuration, rateLimitHeaders, tightest } from "./rate-limit-headers.js";

describe("rate limit headers", () => {
  it.each([
    [0, "0ms"],
    [20, "20ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [7660, "7.66s"],
    [59_999, "59.999s"],
    [60_000, "1m0s"],
    [360_000, "6m0s"],
    [3_723_000, "1h2m3s"],
    [86_400_000, "24h0m0s"],
  ])("writes %i ms as %s, as OpenAI does", (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });

  it("gives limit, remaining and reset for requests and images", () => {
    expect(
      rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 60_000 }, images: { limit: 10, remaining: -2, resetMs: 1500 } }),
    ).toEqual({
      "x-ratelimit-limit-requests": "60",
      "x-ratelimit-remaining-requests": "59",
      "x-ratelimit-reset-requests": "1m0s",
      "x-ratelimit-limit-images": "10",
      "x-ratelimit-remaining-images": "0",
      "x-ratelimit-reset-images": "1.5s",
    });
  });

  it("leaves out units without a limit", () => {
    expect(rateLimitHeaders({ requests: undefined, images: undefined })).toEqual({});
  });

  it("reports the window closest to refusing when workspace and key both limit", () => {
    const workspace = { limit: 100, remaining: 40, resetMs: 1000 };
    const key = { limit: 10, remaining: 3, resetMs: 5000 };
    expect(tightest([workspace, key])).toBe(key);
    expect(tightest([])).toBeUndefined();
  });
});
