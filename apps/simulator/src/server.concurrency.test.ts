import { afterEach, describe, expect, it } from "vitest";
import { generateTiny, useSimulators, waitFor } from "./test-harness.js";

const start = useSimulators();
const generate = (url: string, signal?: AbortSignal) => generateTiny(url, "slots", signal);

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
