import { useScratchRedis } from "@imagegen/local-services/testing";
import { createLogger, createRedisConnection, parseModelCatalog, type RedisClient, type UpstreamSpec } from "@imagegen/shared";
import { afterAll, describe, expect, it } from "vitest";
import { createWorkerMetrics } from "../metrics.js";
import { createGlobalSlots, type GlobalSlots } from "./global-slots.js";
import { createUpstreamRouter } from "./router.js";
import type { ImageUpstream } from "./upstream.js";

const log = createLogger({ name: "test", level: "silent" });
const connections: RedisClient[] = [];
const slotSets: GlobalSlots[] = [];
let prefixCounter = 0;

const scratch = useScratchRedis("worker-global-slots");
afterAll(async () => {
  await Promise.all(slotSets.map((slots) => slots.close()));
  for (const connection of connections) connection.disconnect();
});

/** What one worker process holds: its own connections to the shared Redis. */
function workerSlots(prefix: string, leaseMs = 15_000, warmMs?: number): GlobalSlots {
  const redis = createRedisConnection(scratch.url, "consumer");
  const subscriber = createRedisConnection(scratch.url, "consumer");
  connections.push(redis, subscriber);
  const slots = createGlobalSlots({ redis, subscriber, prefix, leaseMs, log, ...(warmMs === undefined ? {} : { warmMs }) });
  slotSets.push(slots);
  return slots;
}

const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two worker processes on one upstream: `mine` keeps a given-back slot far
 * longer than a test runs (only the other's word can free it); `freed`
 * records what `theirs` hears of freed slots. Resolves once both listen.
 */
async function keeperAndOther() {
  const prefix = `gs${++prefixCounter}`;
  const mine = workerSlots(prefix, 15_000, 600_000);
  const theirs = workerSlots(prefix);
  const freed: string[] = [];
  theirs.onFreed((upstream) => freed.push(upstream));
  await after(100); // the subscriptions are set up
  return { mine, theirs, freed };
}

describe("global GPU slots", () => {
  it("never hand out more than the cap across processes, and take back what is given", async () => {
    const prefix = `gs${++prefixCounter}`;
    const [one, two] = [workerSlots(prefix), workerSlots(prefix)];
    const first = await one.take("gpu", 2);
    const second = await two.take("gpu", 2);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(await one.take("gpu", 2)).toBeUndefined();
    expect(await two.take("gpu", 2)).toBeUndefined();
    one.give("gpu", first!);
    await expect.poll(() => two.take("gpu", 2)).toBeDefined();
  });

  it("tell every process when a slot is freed", async () => {
    const prefix = `gs${++prefixCounter}`;
    const [holder, waiter] = [workerSlots(prefix), workerSlots(prefix)];
    const heard: string[] = [];
    waiter.onFreed((upstream) => heard.push(upstream));
    await after(100); // the subscription is set up
    const lease = await holder.take("gpu-a", 1);
    holder.give("gpu-a", lease!);
    await expect.poll(() => heard).toEqual(["gpu-a"]);
  });

  it("free the slots of a process that died after the lease, not before", async () => {
    const prefix = `gs${++prefixCounter}`;
    const doomed = workerSlots(prefix, 1000);
    const survivor = workerSlots(prefix, 1000);
    expect(await doomed.take("gpu", 1)).toBeDefined();
    await doomed.close(); // no more renewals, no give: as if killed
    expect(await survivor.take("gpu", 1)).toBeUndefined();
    await expect.poll(() => survivor.take("gpu", 1), { timeout: 5000, interval: 200 }).toBeDefined();
  });

  it("keep a given-back slot for this process's next call for a moment, then free it for the others", async () => {
    const prefix = `gs${++prefixCounter}`;
    const [mine, theirs] = [workerSlots(prefix), workerSlots(prefix)];
    const first = await mine.take("gpu", 1);
    mine.give("gpu", first!);
    // Back-to-back: the same lease, no round trip, and nobody else got it meanwhile.
    expect(await mine.take("gpu", 1)).toBe(first);
    mine.give("gpu", first!);
    expect(await theirs.take("gpu", 1)).toBeUndefined();
    await expect.poll(() => theirs.take("gpu", 1), { timeout: 2000, interval: 10 }).toBeDefined();
  });

  it("let a slot kept for this process's next call go at once when another process finds every slot taken", async () => {
    const { mine, theirs, freed } = await keeperAndOther();
    const lease = await mine.take("gpu", 1);
    mine.give("gpu", lease!);
    expect(await theirs.take("gpu", 1)).toBeUndefined();
    await expect.poll(() => freed).toEqual(["gpu"]);
    expect(await theirs.take("gpu", 1)).toBeDefined();
  });

  it("give a slot straight back, not kept, while another process waits for one", async () => {
    const { mine, theirs, freed } = await keeperAndOther();
    const lease = await mine.take("gpu", 1);
    expect(await theirs.take("gpu", 1)).toBeUndefined(); // waits from now on
    // Word of it reaches the holder now; should it come after the give, the kept slot goes back then.
    await after(50);
    mine.give("gpu", lease!);
    await expect.poll(() => freed).toEqual(["gpu"]);
    expect(await theirs.take("gpu", 1)).toBeDefined();
  });

  it("keep a given-back slot for this process's own waiting request, which it serves anyway", async () => {
    const { mine } = await keeperAndOther();
    const lease = await mine.take("gpu", 1);
    expect(await mine.take("gpu", 1)).toBeUndefined(); // its own second request waits
    await after(50); // its own word of that has come back
    mine.give("gpu", lease!);
    // Still kept: its next call gets the same lease without asking Redis.
    expect(await mine.take("gpu", 1)).toBe(lease);
  });

  it("keep a lease that is renewed past its length", async () => {
    const prefix = `gs${++prefixCounter}`;
    const [holder, other] = [workerSlots(prefix, 1000), workerSlots(prefix, 1000)];
    expect(await holder.take("gpu", 1)).toBeDefined();
    await after(2500);
    expect(await other.take("gpu", 1)).toBeUndefined();
  });

  it("cap one upstream across two routers (two workers) at its max_concurrency, and every request is served", async () => {
    const prefix = `gs${++prefixCounter}`;
    const catalog = parseModelCatalog(
      `models:\n  - id: m\n    sizes: ["64x64"]\n    upstreams:\n      - { name: shared-gpu, protocol: openai, base_url: "http://gpu:1", max_concurrency: 2, health_check: { enabled: false } }\n`,
      {},
    );
    // One GPU server, seen by both workers: it counts what it receives.
    const gpu = { inFlight: 0, maxInFlight: 0, calls: 0 };
    const createClient = (spec: UpstreamSpec): ImageUpstream => ({
      name: spec.name,
      protocol: spec.protocol,
      async generate(request) {
        gpu.calls++;
        gpu.maxInFlight = Math.max(gpu.maxInFlight, ++gpu.inFlight);
        await after(40);
        gpu.inFlight--;
        return Array.from({ length: request.n }, () => ({ bytes: Buffer.from("png"), contentType: "image/png" }));
      },
      probe: async () => {},
      close: async () => {},
    });
    const routers = [workerSlots(prefix), workerSlots(prefix)].map((globalSlots) =>
      createUpstreamRouter({ catalog, env: {}, metrics: createWorkerMetrics(), log, createClient, globalSlots }),
    );
    const card = catalog.get("m")!;
    const calls = Array.from({ length: 16 }, (_, index) => routers[index % 2]!.generate(card, { prompt: "p", n: 1, size: "64x64", parameters: {} }, Date.now() + 20_000, log));
    const results = await Promise.all(calls);
    expect(results.every((result) => result.images.length === 1)).toBe(true);
    expect(gpu.calls).toBe(16);
    expect(gpu.maxInFlight).toBe(2);
  });
});
