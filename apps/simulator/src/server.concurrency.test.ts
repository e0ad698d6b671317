import { afterEach, describe, expect, it } from "vitest";
import type { SimulatorOptionsInput } from "./config.js";
import { createSimulator, type Simulator } from "./server.js";

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function start(options: SimulatorOptionsInput = {}): Promise<{ url: string; sim: Simulator }> {
  const sim = createSimulator(options);
  simulator = sim;
  return { url: (await sim.listen(0)).url, sim };
}

function generate(url: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "sim", prompt: "slots", size: "8x8", response_format: "b64_json" }),
    ...(signal ? { signal } : {}),
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("maxConcurrency", () => {
  it("rejects requests beyond the slots with 429 + Retry-After while the slots are held", async () => {
    // Hung requests hold their slots for as long as the test needs, without any timing.
    const { url, sim } = await start({ maxConcurrency: 3, faults: { hangRate: 1, retryAfterSeconds: 2 } });
    const held = [generate(url), generate(url), generate(url)].map((p) => p.catch((error: unknown) => error));
    await waitFor(() => sim.stats().responses.hung === 3);

    const extra = await Promise.all(Array.from({ length: 5 }, () => generate(url)));
    for (const res of extra) {
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("2");
    }
    expect(sim.stats()).toMatchObject({ inFlight: 3, maxInFlight: 3, responses: { hung: 3, rejected: 5 } });

    await sim.close();
    await Promise.all(held);
    expect(sim.stats().inFlight).toBe(0);
  });

  it("never lets more than the slots in under a burst, and frees each slot before its response", async () => {
    const { url, sim } = await start({ maxConcurrency: 2, latencyMs: 20 });
    // Two clients that each keep exactly one request outstanding must never be rejected.
    const client = async () => {
      for (let i = 0; i < 10; i++) expect((await generate(url)).status).toBe(200);
    };
    await Promise.all([client(), client()]);
    expect(sim.stats()).toMatchObject({ maxInFlight: 2, inFlight: 0, responses: { ok: 20, rejected: 0 } });

    const burst = await Promise.all(Array.from({ length: 12 }, () => generate(url)));
    const statuses = burst.map((res) => res.status);
    expect(statuses.filter((status) => status === 200).length + statuses.filter((status) => status === 429).length).toBe(12);
    expect(sim.stats().maxInFlight).toBe(2);
  });

  it("frees the slot when the client disconnects during the latency wait", async () => {
    const { url, sim } = await start({ maxConcurrency: 1, latencyMs: 60_000 });
    const controller = new AbortController();
    const pending = generate(url, controller.signal).catch((error: unknown) => error);
    await waitFor(() => sim.stats().inFlight === 1);

    controller.abort();
    await pending;
    await waitFor(() => sim.stats().inFlight === 0);
    expect(sim.stats().responses.ok).toBe(0);
  });
});

describe("close()", () => {
  it("ends hung requests and resolves", async () => {
    const { url, sim } = await start({ faults: { hangRate: 1 } });
    // Observe the outcome now: close() makes the fetch fail before we await it.
    const outcome = generate(url).then(() => "answered", () => "failed");
    await waitFor(() => sim.stats().responses.hung === 1);

    await sim.close();
    expect(sim.stats().inFlight).toBe(0);
    expect(await outcome).toBe("failed");
  });

  it("ends requests waiting out their latency", async () => {
    const { url, sim } = await start({ latencyMs: 60_000 });
    const outcome = generate(url).then(() => "answered", () => "failed");
    await waitFor(() => sim.stats().inFlight === 1);
    await sim.close();
    expect(sim.stats().inFlight).toBe(0);
    expect(await outcome).toBe("failed");
  });
});
