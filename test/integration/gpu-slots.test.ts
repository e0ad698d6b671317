import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";

/**
 * An upstream's max_concurrency is the cap across every worker process: three
 * workers share one GPU server of 4 slots that refuses (429) whatever comes
 * beyond them, as a real inference server at capacity would.
 */
const SLOTS = 4;
let stack: PrivateStack;
beforeAll(async () => {
  stack = await startPrivateStack({ simulator: { latencyMs: 150, maxConcurrency: SLOTS, faults: { retryAfterSeconds: 1 } }, upstream: { slots: SLOTS } });
  await Promise.all([stack.startWorker(), stack.startWorker(), stack.startWorker()]);
}, 90_000);
afterAll(() => stack?.stop());

describe("GPU slots shared by three workers", () => {
  it("never sends the upstream more than its slots, and no caller pays for oversubscription", async () => {
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0, timeout: 60_000 });
    stack.simulator.resetStats();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        client.images.generate({ model: "private-model", prompt: `shared slots ${index}`, size: "256x256" }).then(
          () => "ok",
          (error: unknown) => String(error),
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome !== "ok")).toEqual([]);
    const stats = stack.simulator.stats();
    expect(stats.maxInFlight).toBeLessThanOrEqual(SLOTS);
    // All three workers' requests met at the GPU: the cap was reached, not merely respected by one worker.
    expect(stats.maxInFlight).toBe(SLOTS);
    expect(stats.responses.ok).toBe(40);
  });
});
