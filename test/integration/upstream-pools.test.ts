import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getFreePort, startNodeService, type ServiceProcess } from "@imagegen/local-services";
import { createSimulator, type Simulator } from "@imagegen/simulator";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { scrapeMetric, suite } from "./support/context.js";
import { fsServiceEnv } from "./support/service-env.js";
import { decodePng } from "./support/png.js";

/**
 * A pool of GPU simulators speaking four protocols behind one model, with
 * this file's own worker and API on the suite's Redis: one upstream dies
 * mid-run, one answers 429 with Retry-After, one hangs, one returns garbage.
 * Slot limits are asserted from the simulators' own counters.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const entry = (app: string) => join(repoRoot, "apps", app, "dist", "main.js");
const API_KEY = `sk-pools-${randomBytes(12).toString("hex")}`;
const SLOTS = 2;

const sims: Record<string, Simulator> = {};
const processes: ServiceProcess[] = [];
let workDir: string;
let client: OpenAI;
let workerMetricsUrl: string;

async function startSim(name: string, options: Parameters<typeof createSimulator>[0]): Promise<string> {
  sims[name] = createSimulator({ seed: 11, maxConcurrency: SLOTS, ...options });
  return (await sims[name].listen(0)).url;
}

const WORKFLOW = {
  "3": { class_type: "KSampler", inputs: { seed: 1, steps: 20 } },
  "5": { class_type: "EmptyLatentImage", inputs: { width: 512, height: 512, batch_size: 1 } },
  "6": { class_type: "CLIPTextEncode", inputs: { text: "" } },
  "9": { class_type: "SaveImage", inputs: { filename_prefix: "x" } },
};

function catalogYaml(urls: Record<string, string>, deadUrl: string): string {
  const common = `max_concurrency: ${SLOTS}, timeout_ms: 1500, max_attempts: 3, retry_base_delay_ms: 20, retry_max_delay_ms: 100, health_check: { interval_ms: 300, timeout_ms: 300 }, circuit_breaker: { consecutive_failures: 3, cooldown_ms: 2000 }`;
  const workflow = `workflow: { template: workflow.json, inputs: { prompt: "6.text", width: "5.width", height: "5.height", batch_size: "5.batch_size", seed: "3.seed" } }`;
  return `models:
  - id: pool
    sizes: ["64x64"]
    max_n: 4
    timeout_ms: 20000
    parameters: { seed: { type: integer, minimum: 0 } }
    upstreams:
      - { name: steady, protocol: openai, base_url: "${urls.steady}", model: sim, ${common}, weight: 2 }
      - { name: dying, protocol: a1111, base_url: "${urls.dying}", ${common} }
      - { name: throttling, protocol: cog, base_url: "${urls.throttling}", ${common} }
      - { name: hanging, protocol: comfyui, base_url: "${urls.hanging}", ${common}, ${workflow} }
      - { name: garbage, protocol: openai, base_url: "${urls.garbage}", model: sim, ${common} }
  - id: split
    sizes: ["64x64"]
    max_n: 4
    parameters: { seed: { type: integer, minimum: 0 } }
    upstreams:
      - { name: batch-a, protocol: a1111, base_url: "${urls.batchA}", max_concurrency: 2, max_images_per_request: 2 }
      - { name: batch-b, protocol: cog, base_url: "${urls.batchB}", max_concurrency: 2, max_images_per_request: 1 }
  - id: split-broken
    sizes: ["64x64"]
    max_n: 2
    upstreams:
      - { name: half-broken, protocol: openai, base_url: "${urls.halfBroken}", model: sim, max_concurrency: 2, max_images_per_request: 1, max_attempts: 1 }
  - id: dead
    sizes: ["64x64"]
    upstreams:
      - { name: nobody, protocol: openai, base_url: "${deadUrl}", max_attempts: 1, health_check: { enabled: false }, circuit_breaker: { consecutive_failures: 1, cooldown_ms: 60000 } }
`;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "imagegen-pools-"));
  const urls = {
    steady: await startSim("steady", { latencyMs: 40 }),
    dying: await startSim("dying", { latencyMs: 40 }),
    throttling: await startSim("throttling", { latencyMs: 40, faults: { rateLimitRate: 0.5, retryAfterSeconds: 1 } }),
    hanging: await startSim("hanging", { faults: { hangRate: 1 } }),
    garbage: await startSim("garbage", { faults: { garbageRate: 1 } }),
    batchA: await startSim("batchA", { latencyMs: 30 }),
    batchB: await startSim("batchB", { latencyMs: 30 }),
    halfBroken: await startSim("halfBroken", { faults: { failFirstAttemptsPerPrompt: 1, failStatus: 503 } }),
  };
  writeFileSync(join(workDir, "workflow.json"), JSON.stringify(WORKFLOW));
  writeFileSync(join(workDir, "models.yaml"), catalogYaml(urls, `http://127.0.0.1:${await getFreePort()}`));
  const [apiPort, apiMetricsPort, workerMetricsPort] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
  const env = fsServiceEnv({ redisUrl: suite().redis.url, prefix: "it-pools", catalogPath: join(workDir, "models.yaml"), workDir });
  workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
  processes.push(
    await startNodeService({
      name: "worker-pools",
      entry: entry("worker"),
      env: { ...env, METRICS_PORT: String(workerMetricsPort), METRICS_HOST: "127.0.0.1", WORKER_CONCURRENCY: "64" },
      readyUrl: `http://127.0.0.1:${workerMetricsPort}/readyz`,
      logFile: join(suite().logDir, "worker-pools.log"),
    }),
  );
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  processes.push(
    await startNodeService({
      name: "api-pools",
      entry: entry("api"),
      env: { ...env, PORT: String(apiPort), HOST: "127.0.0.1", PUBLIC_BASE_URL: apiUrl, METRICS_PORT: String(apiMetricsPort), METRICS_HOST: "127.0.0.1", API_KEYS: API_KEY },
      readyUrl: `${apiUrl}/readyz`,
      logFile: join(suite().logDir, "api-pools.log"),
    }),
  );
  client = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: API_KEY, maxRetries: 0, timeout: 30_000 });
});

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await Promise.all(Object.values(sims).map((sim) => sim.close()));
  rmSync(workDir, { recursive: true, force: true });
});

const storedFiles = () => {
  try {
    return readdirSync(join(workDir, "images"), { recursive: true }).filter((name) => String(name).endsWith(".png")).length;
  } catch {
    return 0;
  }
};

describe("an upstream pool under faults", () => {
  it("gives callers correct images or the right error while upstreams die, throttle, hang and lie — never over their slots", async () => {
    const outcomes: Array<"ok" | string> = [];
    const call = async (index: number) => {
      try {
        const result = await client.images.generate({ model: "pool", prompt: `pool request ${index}`, size: "64x64", n: 1 + (index % 2), response_format: "b64_json" });
        expect(result.data).toHaveLength(1 + (index % 2));
        for (const image of result.data ?? []) expect(decodePng(Buffer.from(image.b64_json!, "base64"))).toMatchObject({ width: 64, height: 64 });
        outcomes.push("ok");
      } catch (error) {
        if (!(error instanceof APIError)) throw error;
        outcomes.push(`${error.status} ${String(error.code)}`);
      }
    };
    const first = Array.from({ length: 30 }, (_, index) => call(index));
    // One upstream dies mid-run, with requests in flight to it.
    await expect.poll(() => sims.dying!.stats().requests, { timeout: 10_000 }).toBeGreaterThan(0);
    await sims.dying!.close();
    await Promise.all(first);
    await Promise.all(Array.from({ length: 30 }, (_, index) => call(100 + index)));

    const failures = outcomes.filter((outcome) => outcome !== "ok");
    for (const failure of failures) expect(["503 upstream_unavailable", "502 upstream_invalid_response", "504 upstream_timeout"]).toContain(failure);
    expect(failures.length).toBeLessThanOrEqual(outcomes.length / 10);
    for (const [name, sim] of Object.entries(sims)) {
      expect(sim.stats().maxInFlight, name).toBeLessThanOrEqual(SLOTS);
      expect(sim.stats().responses.rejected, name).toBe(0);
    }
    expect(sims.steady!.stats().responses.ok).toBeGreaterThan(20);
    // The lying and hanging upstreams are cut off by their circuits, not retried forever.
    expect(sims.garbage!.stats().requests).toBeLessThan(15);
    expect(sims.throttling!.stats().responses.rateLimited).toBeGreaterThan(0);
  });

  it("shows operators which upstreams are out, and the failovers", async () => {
    expect(await scrapeMetric(workerMetricsUrl, 'imagegen_upstream_healthy{upstream="steady"}')).toBe(1);
    await expect.poll(() => scrapeMetric(workerMetricsUrl, 'imagegen_upstream_healthy{upstream="dying"}'), { timeout: 5000 }).toBe(0);
    const text = await (await fetch(workerMetricsUrl)).text();
    expect(text).toMatch(/imagegen_upstream_failovers_total\{from="(garbage|hanging|dying|throttling)",to="[a-z]+"\} [1-9]/);
    expect(text).toMatch(/imagegen_upstream_circuit_state\{upstream="garbage"\} [0-2]/);
  });
});

describe("fan-out", () => {
  it("splits n above the upstreams' batch caps across calls and returns one ordered response", async () => {
    const before = sims.batchA!.stats().requests + sims.batchB!.stats().requests;
    const result = await client.images.generate({ model: "split", prompt: "four in one", size: "64x64", n: 4, response_format: "b64_json", ...({ seed: 40 } as object) });
    expect(result.data).toHaveLength(4);
    const pictures = (result.data ?? []).map((image) => image.b64_json);
    expect(new Set(pictures).size).toBe(4);
    // Every part fits the smallest cap (1), so four calls across both upstreams.
    expect(sims.batchA!.stats().requests + sims.batchB!.stats().requests - before).toBe(4);
  });

  it("fails the whole request cleanly when one part fails, leaving no stored image behind", async () => {
    const filesBefore = storedFiles();
    const error = await apiErrorOf(client.images.generate({ model: "split-broken", prompt: `half ${Date.now()}`, size: "64x64", n: 2 }));
    expect(error.status).toBe(503);
    expect(error.code).toBe("upstream_unavailable");
    expect(storedFiles()).toBe(filesBefore);
  });
});

describe("no healthy upstream", () => {
  it("fails a synchronous request fast with 503 and Retry-After once the model's only circuit is open", async () => {
    await apiErrorOf(client.images.generate({ model: "dead", prompt: "open the circuit", size: "64x64" }));
    const started = Date.now();
    const error = await apiErrorOf(client.images.generate({ model: "dead", prompt: "fail fast", size: "64x64" }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.status).toBe(503);
    expect(error.code).toBe("upstream_unavailable");
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(30);
  });
});
