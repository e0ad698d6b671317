import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { openaiClient, scrapeMetric, simulatorStats, suite } from "./support/context.js";


const generate = (model: string, prompt: string) =>
  openaiClient(suite().stacks.s3).images.generate({ model, prompt, size: "256x256", response_format: "b64_json" });

describe("upstream faults, against simulators that misbehave on purpose", () => {
  it("recovers from upstream 5xx by retrying: the caller gets its image", async () => {
    const before = await simulatorStats("flaky");
    const result = await generate("test-flaky", "recover from two 503s");
    expect(result.data).toHaveLength(1);
    const after = await simulatorStats("flaky");
    // Two refused attempts, then the one that succeeded.
    expect(after.requests - before.requests).toBe(3);
  });

  it("recovers from an upstream 429 by waiting as asked", async () => {
    const result = await generate("test-throttled", "recover from one 429");
    expect(result.data).toHaveLength(1);
  });

  it("answers 503 upstream_unavailable with Retry-After when the upstream stays overloaded", async () => {
    const error = await apiErrorOf(generate("test-overloaded", "always 429"));
    expect(error.status).toBe(503);
    expect(error.code).toBe("upstream_unavailable");
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("answers 504 upstream_timeout when the upstream never answers", async () => {
    const error = await apiErrorOf(generate("test-hanging", "hang"));
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_timeout");
  });

  it("answers 502 upstream_invalid_response when the upstream returns garbage", async () => {
    const error = await apiErrorOf(generate("test-garbage", "garbage"));
    expect(error.status).toBe(502);
    expect(error.code).toBe("upstream_invalid_response");
  });

  it("answers 503 upstream_unavailable when nothing listens at the upstream's address", async () => {
    const error = await apiErrorOf(generate("test-down", "nobody home"));
    expect(error.status).toBe(503);
    expect(error.code).toBe("upstream_unavailable");
  });

  it("counts retries by upstream and reason for operators", async () => {
    await generate("test-flaky", "retries are counted");
    const retries = await scrapeMetric(suite().stacks.s3.workerMetricsUrl, 'imagegen_upstream_retries_total{upstream="sim-flaky",reason="503"}');
    expect(retries).toBeGreaterThanOrEqual(2);
  });
});

describe("a caller that hangs up", () => {
  it("leaves no waiter behind in the API", async () => {
    const { stacks } = suite();
    const controller = new AbortController();
    const pending = openaiClient(stacks.fs)
      .images.generate({ model: "test-slow", prompt: "I will not wait", size: "256x256" }, { signal: controller.signal })
      .catch(() => "aborted");
    // Let the request reach the API and start waiting on its job.
    await expect.poll(() => scrapeMetric(stacks.fs.apiMetricsUrl, "imagegen_sync_waiters"), { timeout: 5000 }).toBeGreaterThan(0);
    controller.abort();
    expect(await pending).toBe("aborted");
    await expect.poll(() => scrapeMetric(stacks.fs.apiMetricsUrl, "imagegen_sync_waiters"), { timeout: 5000 }).toBe(0);
  });
});
