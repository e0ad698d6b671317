import { afterEach, describe, expect, it } from "vitest";
import { generateTiny as generate, useSimulators, waitFor } from "./test-harness.js";

const start = useSimulators();

describe("injected faults", () => {
  it("errorRate 1 answers 500 in the OpenAI envelope", async () => {
    const { url, sim } = await start({ faults: { errorRate: 1 } });
    const res = await generate(url);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { type: "server_error", message: expect.any(String) } });
    expect(sim.stats().responses.error).toBe(1);
  });

  it("rateLimitRate 1 answers 429 with Retry-After", async () => {
    const { url, sim } = await start({ faults: { rateLimitRate: 1, retryAfterSeconds: 7 } });
    const res = await generate(url);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    expect(sim.stats().responses.rateLimited).toBe(1);
  });

  it("resetRate 1 drops the connection without a response", async () => {
    const { url, sim } = await start({ faults: { resetRate: 1 } });
    await expect(generate(url)).rejects.toThrow();
    expect(sim.stats().responses.reset).toBe(1);
    expect(sim.stats().inFlight).toBe(0);
  });

  it("garbageRate 1 alternates truncated JSON and JSON of the wrong shape, both as 200", async () => {
    const { url, sim } = await start({ faults: { garbageRate: 1 } });
    const first = await generate(url);
    expect(first.status).toBe(200);
    await expect(first.json()).rejects.toThrow();

    const second = await generate(url);
    expect(second.status).toBe(200);
    const body = (await second.json()) as Record<string, unknown>;
    expect(Array.isArray(body.data)).toBe(false);
    expect(sim.stats().responses.garbage).toBe(2);
  });

  it("hangRate 1 never answers, holds its slot, and is ended by the client giving up", async () => {
    const { url, sim } = await start({ faults: { hangRate: 1 } });
    const controller = new AbortController();
    const pending = generate(url, "x", controller.signal);
    await waitFor(() => sim.stats().responses.hung === 1);
    expect(sim.stats().inFlight).toBe(1);

    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => sim.stats().inFlight === 0);
  });

  it("failFirstAttemptsPerPrompt fails exactly N times per prompt, then succeeds", async () => {
    const { url, sim } = await start({ faults: { failFirstAttemptsPerPrompt: 2, failStatus: 502 } });
    const statuses = async (prompt: string) => [
      (await generate(url, prompt)).status,
      (await generate(url, prompt)).status,
      (await generate(url, prompt)).status,
      (await generate(url, prompt)).status,
    ];
    expect(await statuses("alpha")).toEqual([502, 502, 200, 200]);
    expect(await statuses("beta")).toEqual([502, 502, 200, 200]);
    expect(sim.stats().responses).toMatchObject({ error: 4, ok: 4 });

    // A reset starts every prompt over.
    await fetch(`${url}/_sim/reset`, { method: "POST" });
    expect((await generate(url, "alpha")).status).toBe(502);
  });

  it("the same seed gives the same fault sequence", async () => {
    const run = async () => {
      const { url, sim } = await start({ seed: 99, faults: { errorRate: 0.5 } });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await generate(url)).status);
      await sim.close();
      return statuses;
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set([200, 500]));
    expect(await run()).toEqual(first);
  });
});

describe("control endpoints", () => {
  it("POST /_sim/faults changes faults at runtime and rejects bad input", async () => {
    const { url, sim } = await start();
    expect((await generate(url)).status).toBe(200);

    const set = await fetch(`${url}/_sim/faults`, { method: "POST", body: JSON.stringify({ errorRate: 1 }) });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ faults: { errorRate: 1, failStatus: 503 } });
    expect((await generate(url)).status).toBe(500);

    for (const bad of ['{"errorRate": 2}', '{"errorrate": 1}', "not json", "[]"]) {
      const res = await fetch(`${url}/_sim/faults`, { method: "POST", body: bad });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    }

    sim.setFaults({ errorRate: 0 });
    expect((await generate(url)).status).toBe(200);
    expect(() => sim.setFaults({ hangRate: -1 })).toThrow();
  });

  it("GET /_sim/stats reports counters and POST /_sim/reset zeroes them", async () => {
    const { url } = await start();
    await generate(url);
    const stats = await (await fetch(`${url}/_sim/stats`)).json();
    expect(stats).toMatchObject({ requests: 1, images: 1, inFlight: 0, maxInFlight: 1, responses: { ok: 1 } });

    expect((await fetch(`${url}/_sim/reset`, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(`${url}/_sim/stats`)).json()).toMatchObject({ requests: 0, images: 0, maxInFlight: 0, responses: { ok: 0 } });
  });
});
