import { withFastCounting, withFastGauge, withFastRecording } from "@imagegen/shared";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createWorkerMetrics } from "./metrics.js";

const BUCKETS = [0.01, 0.1, 1, 10];

/** The same histogram twice: as prom-client ships it, and with the fast recording path. */
function pair(labelNames: readonly string[]) {
  const plain = new Registry();
  const fast = new Registry();
  const config = { name: "imagegen_test_seconds", help: "A test histogram.", labelNames, buckets: BUCKETS };
  return {
    plain: new Histogram({ ...config, registers: [plain] }),
    fast: withFastRecording(new Histogram({ ...config, registers: [fast] })),
    async texts() {
      return { plain: await plain.metrics(), fast: await fast.metrics() };
    },
    async json() {
      return { plain: await plain.getMetricsAsJSON(), fast: await fast.getMetricsAsJSON() };
    },
  };
}

describe("fast histograms", () => {
  it("exposes exactly what prom-client exposes for the same observations", async () => {
    const histograms = pair(["model", "outcome"]);
    // On a bound, between bounds, above every bound, zero; two label sets, one with a label left out.
    const observations: Array<[Record<string, string>, number]> = [
      [{ model: "a", outcome: "ok" }, 0.01],
      [{ model: "a", outcome: "ok" }, 0.05],
      [{ model: "b", outcome: "error" }, 42],
      [{ model: "a", outcome: "ok" }, 0],
      [{ model: "b" }, 0.5],
      [{ model: "a", outcome: "ok" }, 10],
    ];
    for (const [labels, value] of observations) for (const histogram of [histograms.plain, histograms.fast]) histogram.observe(labels, value);
    const texts = await histograms.texts();
    expect(texts.fast).toBe(texts.plain);
    expect(texts.fast).toContain('imagegen_test_seconds_bucket{le="0.1",model="a",outcome="ok"} 3');
    const json = await histograms.json();
    expect(json.fast).toEqual(json.plain);
  });

  it("keeps prom-client's behaviour without labels, after reset and for invalid values", async () => {
    const histograms = pair([]);
    histograms.plain.observe(0.2);
    histograms.fast.observe(0.2);
    expect((await histograms.texts()).fast).toBe((await histograms.texts()).plain);

    histograms.plain.reset();
    histograms.fast.reset();
    histograms.plain.observe(3);
    histograms.fast.observe(3);
    const texts = await histograms.texts();
    expect(texts.fast).toBe(texts.plain);
    expect(texts.fast).toContain("imagegen_test_seconds_count 1");

    expect(() => histograms.fast.observe(Number.NaN)).toThrow(TypeError);
  });

  it("times with startTimer, labels given at the start and at the end", async () => {
    const { fast, texts } = pair(["model", "outcome"]);
    const end = fast.startTimer({ model: "a" });
    const seconds = end({ outcome: "ok" });
    expect(seconds).toBeGreaterThanOrEqual(0);
    // Labels given at the end win over the same labels given at the start, as in prom-client.
    fast.startTimer({ model: "a", outcome: "pending" })({ outcome: "ok" });
    fast.startTimer({ model: "b" })();
    const text = (await texts()).fast;
    expect(text).toContain('imagegen_test_seconds_count{model="a",outcome="ok"} 2');
    expect(text).toContain('imagegen_test_seconds_count{model="b"} 1');
    expect(text).not.toContain("pending");
  });
});

describe("fast counters", () => {
  function counters(labelNames: readonly string[]) {
    const plain = new Registry();
    const fast = new Registry();
    const config = { name: "imagegen_test_total", help: "A test counter.", labelNames };
    return {
      plain: new Counter({ ...config, registers: [plain] }),
      fast: withFastCounting(new Counter({ ...config, registers: [fast] })),
      async texts() {
        return { plain: await plain.metrics(), fast: await fast.metrics() };
      },
    };
  }

  it("expose exactly what prom-client exposes, with labels, numbers as label values, increments by n, and after reset", async () => {
    const labelled = counters(["model", "code"]);
    const steps: Array<[Record<string, string | number>, number | undefined]> = [
      [{ model: "a", code: "" }, undefined],
      [{ model: "b", code: "rate_limited" }, 3],
      [{ model: "a", code: "" }, 2],
      [{ model: "a" }, undefined],
      [{ model: 7, code: "" }, undefined],
      [{ model: "7", code: "" }, undefined],
    ];
    for (const [labels, value] of steps) for (const counter of [labelled.plain, labelled.fast]) counter.inc(labels, value);
    let texts = await labelled.texts();
    expect(texts.fast).toBe(texts.plain);
    expect(texts.fast).toContain('imagegen_test_total{model="a",code=""} 3');
    expect(texts.fast).toContain('imagegen_test_total{model="7",code=""} 2');
    expect(() => labelled.fast.inc({ model: "a", code: "" }, -1)).toThrow();

    const bare = counters([]);
    texts = await bare.texts();
    expect(texts.fast).toBe(texts.plain);
    bare.plain.inc(4);
    bare.fast.inc(4);
    bare.plain.reset();
    bare.fast.reset();
    bare.plain.inc();
    bare.fast.inc();
    texts = await bare.texts();
    expect(texts.fast).toBe(texts.plain);
    expect(texts.fast).toContain("imagegen_test_total 1");
  });
});

describe("fast gauges", () => {
  it("expose exactly what prom-client exposes after set, inc, dec, reset and a collect callback", async () => {
    const make = (registers: Registry[]) =>
      new Gauge({
        name: "imagegen_test_jobs",
        help: "A test gauge.",
        labelNames: ["workspace"] as const,
        registers,
        collect() {
          this.set({ workspace: "collected" }, 5);
        },
      });
    const plainRegistry = new Registry();
    const fastRegistry = new Registry();
    const plain = make([plainRegistry]);
    const fast = withFastGauge(make([fastRegistry]));
    for (const gauge of [plain, fast]) {
      gauge.inc({ workspace: "a" });
      gauge.inc({ workspace: "a" }, 3);
      gauge.dec({ workspace: "a" });
      gauge.set({ workspace: "b" }, 7);
      gauge.dec({ workspace: "b" }, 2);
    }
    expect(await fastRegistry.metrics()).toBe(await plainRegistry.metrics());
    expect(await fastRegistry.metrics()).toContain('imagegen_test_jobs{workspace="a"} 3');
    expect(await fastRegistry.metrics()).toContain('imagegen_test_jobs{workspace="collected"} 5');
    plain.reset();
    fast.reset();
    expect(await fastRegistry.metrics()).toBe(await plainRegistry.metrics());

    const bare = new Registry();
    const bareGauge = withFastGauge(new Gauge({ name: "imagegen_test_waiters", help: "A test gauge.", registers: [bare] }));
    expect(await bare.metrics()).toContain("imagegen_test_waiters 0");
    bareGauge.set(4);
    expect(await bare.metrics()).toContain("imagegen_test_waiters 4");
  });
});

describe("worker metrics", () => {
  it("record generation timings on /metrics, and nothing when disabled", async () => {
    const on = createWorkerMetrics({ enabled: true });
    on.generationSeconds.startTimer({ model: "sdxl" })({ outcome: "ok" });
    on.queueWaitSeconds.observe({ kind: "sync" }, 0.02);
    on.generations.inc({ model: "sdxl", outcome: "ok", code: "" });
    const text = await on.registry.metrics();
    expect(text).toContain('imagegen_generations_total{model="sdxl",outcome="ok",code=""} 1');
    expect(text).toContain('imagegen_generation_duration_seconds_count{model="sdxl",outcome="ok"} 1');
    expect(text).toContain('imagegen_queue_wait_seconds_bucket{le="0.025",kind="sync"} 1');

    const off = createWorkerMetrics({ enabled: false });
    off.generationSeconds.startTimer({ model: "sdxl" })({ outcome: "ok" });
    off.queueWaitSeconds.observe({ kind: "sync" }, 0.02);
    off.generations.inc({ model: "sdxl", outcome: "ok", code: "" });
    const offText = await off.registry.metrics();
    expect(offText).not.toContain("imagegen_queue_wait_seconds_bucket{");
    expect(offText).not.toContain("imagegen_generations_total{");
  });
});
