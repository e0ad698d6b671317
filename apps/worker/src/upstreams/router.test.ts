import { createLogger, parseModelCatalog, ServiceError, type UpstreamSpec } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import { createWorkerMetrics } from "../metrics.js";
import { NoHealthyUpstreamError } from "./pool.js";
import { createUpstreamRouter } from "./router.js";
import { UpstreamAttemptError, type GeneratedImage, type ImageUpstream, type UpstreamImageRequest } from "./upstream.js";

const log = createLogger({ name: "test", level: "silent" });
const PNG = Buffer.from("89504e470d0a1a0a0000", "hex");

type Behaviour = (request: UpstreamImageRequest, call: number) => Promise<GeneratedImage[]>;
const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const images = (request: UpstreamImageRequest, label = "") =>
  Array.from({ length: request.n }, (_, index) => ({ bytes: PNG, contentType: "image/png", revisedPrompt: `${label}${request.parameters.seed ?? ""}:${index}` }));

/** Fake GPU servers that count their own concurrency, as the simulators do. */
function fakeUpstreams(behaviours: Record<string, Behaviour>) {
  const stats: Record<string, { calls: number; inFlight: number; maxInFlight: number; requests: UpstreamImageRequest[] }> = {};
  const probeFails: Record<string, boolean> = {};
  /** Probes that get no answer until their timeout, as from a server busy with generations. */
  const probeHangs: Record<string, boolean> = {};
  const createClient = (spec: UpstreamSpec): ImageUpstream => {
    const own = (stats[spec.name] = { calls: 0, inFlight: 0, maxInFlight: 0, requests: [] as UpstreamImageRequest[] });
    return {
      name: spec.name,
      protocol: spec.protocol,
      async generate(request, signal) {
        own.calls++;
        own.inFlight++;
        own.maxInFlight = Math.max(own.maxInFlight, own.inFlight);
        own.requests.push(request);
        try {
          return await Promise.race([
            behaviours[spec.name]!(request, own.calls),
            new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new UpstreamAttemptError("timeout", "deadline")), { once: true })),
          ]);
        } finally {
          own.inFlight--;
        }
      },
      async probe(signal) {
        if (probeHangs[spec.name]) {
          await new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new UpstreamAttemptError("timeout", "probe timed out")), { once: true }));
        }
        if (probeFails[spec.name]) throw new UpstreamAttemptError("connection", "refused");
      },
      close: async () => {},
    };
  };
  return { stats, probeFails, probeHangs, createClient };
}

function catalog(upstreams: string, extra = "max_n: 10") {
  return parseModelCatalog(
    `models:\n  - id: m\n    sizes: ["64x64"]\n    ${extra}\n    parameters: { seed: { type: integer } }\n    upstreams:\n${upstreams}`,
    {},
  );
}
const upstream = (name: string, settings = "") =>
  `      - { name: ${name}, protocol: openai, base_url: "http://${name}:1", max_attempts: 3, retry_base_delay_ms: 5, retry_max_delay_ms: 20, health_check: { enabled: false }${settings ? `, ${settings}` : ""} }\n`;

function setup(upstreams: string, behaviours: Record<string, Behaviour>, extra?: string) {
  const fakes = fakeUpstreams(behaviours);
  const metrics = createWorkerMetrics();
  const models = catalog(upstreams, extra);
  const router = createUpstreamRouter({ catalog: models, env: {}, metrics, log, createClient: fakes.createClient });
  const card = models.get("m")!;
  const generate = (n = 1, parameters: Record<string, number> = {}, timeoutMs = 5000) =>
    router.generate(card, { prompt: "p", n, size: "64x64", parameters }, Date.now() + timeoutMs, log);
  return { ...fakes, router, metrics, generate };
}

describe("upstream pool routing", () => {
  it("never sends an upstream more than its slots, and a free fast upstream takes the work a slow one would hold", async () => {
    const { stats, generate } = setup(upstream("fast", "max_concurrency: 2") + upstream("slow", "max_concurrency: 1"), {
      fast: async (request) => (await after(10), images(request)),
      slow: async (request) => (await after(300), images(request)),
    });
    await Promise.all(Array.from({ length: 20 }, () => generate()));
    expect(stats.fast!.maxInFlight).toBeLessThanOrEqual(2);
    expect(stats.slow!.maxInFlight).toBe(1);
    // The slow one took its single slot once; every other request waited for the fast one.
    expect(stats.slow!.calls).toBe(1);
    expect(stats.fast!.calls).toBe(19);
  });

  it("picks the least loaded upstream by share of slots times weight", async () => {
    const { stats, generate } = setup(upstream("a", "max_concurrency: 4") + upstream("b", "max_concurrency: 4, weight: 3"), {
      a: async (request) => (await after(50), images(request)),
      b: async (request) => (await after(50), images(request)),
    });
    await Promise.all(Array.from({ length: 4 }, () => generate()));
    // b's weight 3: (k+1)/12 stays below a's 1/4 until b holds 3.
    expect(stats.b!.calls).toBe(3);
    expect(stats.a!.calls).toBe(1);
  });

  it("fails over to another upstream on 5xx and garbage, and counts the failover", async () => {
    const { stats, metrics, generate } = setup(upstream("a", "weight: 10") + upstream("b"), {
      a: async () => {
        throw new UpstreamAttemptError("invalid_response", "garbage");
      },
      b: async (request) => images(request, "b"),
    });
    const outcome = await generate();
    expect(outcome.upstream).toBe("b");
    expect(stats.a!.calls).toBe(1);
    const failovers = await metrics.registry.getSingleMetricAsString("imagegen_upstream_failovers_total");
    expect(failovers).toContain('imagegen_upstream_failovers_total{from="a",to="b"} 1');
  });

  it("on 429 fails over at once instead of sleeping the Retry-After, and keeps new work off that upstream until then", async () => {
    const { stats, generate } = setup(upstream("a", "weight: 10") + upstream("b"), {
      a: async () => {
        throw new UpstreamAttemptError("http", "busy", { status: 429, retryAfterMs: 30_000 });
      },
      b: async (request) => images(request),
    });
    const started = Date.now();
    await generate();
    await generate();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(stats.a!.calls).toBe(1);
    expect(stats.b!.calls).toBe(2);
  });

  it("opens the circuit of a failing upstream, then fails fast when no upstream of the model is left", async () => {
    const { stats, router, generate } = setup(upstream("a", "circuit_breaker: { consecutive_failures: 2, cooldown_ms: 60000 }"), {
      a: async () => {
        throw new UpstreamAttemptError("connection", "refused");
      },
    });
    // The circuit opens after the second failure, so the third attempt finds no upstream left.
    await expect(generate()).rejects.toBeInstanceOf(NoHealthyUpstreamError);
    expect(stats.a!.calls).toBe(2);
    const error = await generate().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(NoHealthyUpstreamError);
    expect((error as NoHealthyUpstreamError).retryAtMs).toBeGreaterThan(Date.now() + 50_000);
    expect(stats.a!.calls).toBe(2);
    expect(router.usage()[0]).toMatchObject({ circuitState: "open", healthy: false });
  });

  it("takes an upstream that fails its probes out of rotation", async () => {
    const fakes = setup(upstream("a").replace("enabled: false", "enabled: true, interval_ms: 100, unhealthy_threshold: 1") + upstream("b"), {
      a: async (request) => images(request, "a"),
      b: async (request) => images(request, "b"),
    });
    fakes.probeFails.a = true;
    fakes.router.start();
    await expect.poll(() => fakes.router.usage().find((usage) => usage.upstream === "a")?.healthy, { timeout: 2000 }).toBe(false);
    for (let i = 0; i < 3; i++) expect((await fakes.generate()).upstream).toBe("b");
    fakes.probeFails.a = false;
    await expect.poll(() => fakes.router.usage().find((usage) => usage.upstream === "a")?.healthy, { timeout: 2000 }).toBe(true);
    await fakes.router.close();
  });

  it("keeps a busy upstream in rotation while its generations succeed, though its probes time out", async () => {
    // Two timeouts in a row with no success between would count: one stalled window on a loaded machine does not.
    const probing = "enabled: true, interval_ms: 100, timeout_ms: 100, unhealthy_threshold: 2";
    const fakes = setup(upstream("a").replace("enabled: false", probing), {
      a: async (request) => (await after(15), images(request, "a")),
    });
    const healthy = () => fakes.router.usage().find((usage) => usage.upstream === "a")?.healthy;
    fakes.probeHangs.a = true;
    fakes.router.start();
    // ~6 probe rounds, each timing out, while the only upstream keeps answering work.
    const until = Date.now() + 1200;
    let generated = 0;
    while (Date.now() < until) {
      expect((await fakes.generate()).upstream).toBe("a");
      expect(healthy()).toBe(true);
      generated++;
    }
    expect(generated).toBeGreaterThan(10);
    // Idle, a probe that times out has nothing to vouch for the server: out of rotation.
    await expect.poll(healthy, { timeout: 3000 }).toBe(false);
    await fakes.router.close();
  });

  it("does not blame an upstream for a request whose own deadline ran out", async () => {
    const { router, generate } = setup(upstream("a", "circuit_breaker: { consecutive_failures: 1 }, timeout_ms: 5000"), {
      a: async (request) => (await after(300), images(request)),
    });
    await expect(generate(1, {}, 50)).rejects.toBeInstanceOf(ServiceError);
    expect(router.usage()[0]!.circuitState).toBe("closed");
  });
});

describe("fan-out", () => {
  it("splits n above the batch cap across calls and upstreams, assembling the images in order with moved seeds", async () => {
    const { stats, generate } = setup(upstream("a", "max_images_per_request: 2, max_concurrency: 1") + upstream("b", "max_images_per_request: 3, max_concurrency: 1"), {
      a: async (request) => (await after(20), images(request, "a")),
      b: async (request) => (await after(20), images(request, "b")),
    });
    const outcome = await generate(5, { seed: 100 });
    expect(outcome.images.map((image) => image.revisedPrompt?.replace(/^[ab]/, ""))).toEqual(["100:0", "100:1", "102:0", "102:1", "104:0"]);
    expect([...stats.a!.requests, ...stats.b!.requests].map((request) => request.n).sort()).toEqual([1, 2, 2]);
    expect(outcome.upstream.split(",").sort()).toEqual(["a", "b"]);
  });

  it("fails the whole request when a part fails for good, and stops the parts still running", async () => {
    const { generate } = setup(upstream("a", "max_images_per_request: 1, max_concurrency: 4"), {
      a: async (request, call) => {
        if (call === 1) throw new UpstreamAttemptError("http", "bad prompt", { status: 400, upstreamMessage: "refused" });
        await after(2000);
        return images(request);
      },
    });
    const started = Date.now();
    const error = await generate(3).catch((reason: unknown) => reason);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe("invalid_payload");
  });
});
