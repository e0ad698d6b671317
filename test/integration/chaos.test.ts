import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";
import { sizeOf } from "./support/png.js";

const SLOTS = 8;
const REQUESTS = 160;
const CALLERS = 24;

let stack: PrivateStack;
beforeAll(async () => {
  // The simulator enforces the slots itself: a request beyond them is counted as rejected.
  stack = await startPrivateStack({
    simulator: {
      latencyMs: 100,
      maxConcurrency: SLOTS,
      seed: 42,
      faults: { errorRate: 0.1, rateLimitRate: 0.05, retryAfterSeconds: 1, hangRate: 0.02, garbageRate: 0.01 },
    },
    upstream: { slots: SLOTS, attemptTimeoutMs: 1000 },
  });
  await stack.startWorker();
}, 60_000);
afterAll(() => stack?.stop());

describe("upstream chaos (10 % errors, 5 % 429s, 2 % hangs, 1 % garbage)", () => {
  it("ends every request in images or the right public error, and never exceeds the upstream's slots", async () => {
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0, timeout: 60_000 });
    const outcomes: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (next < REQUESTS) {
          const index = next++;
          try {
            const result = await client.images.generate({ model: "private-model", prompt: `chaos ${index}`, size: "256x256", response_format: "b64_json" });
            expect(result.data).toHaveLength(1);
            expect(sizeOf(Buffer.from(result.data![0]!.b64_json!, "base64"))).toBe("256x256");
            outcomes.push("images");
          } catch (error) {
            expect(error).toBeInstanceOf(APIError);
            outcomes.push(`${(error as APIError).status} ${(error as APIError).code}`);
          }
        }
      }),
    );
    const counts = Object.fromEntries([...new Set(outcomes)].map((outcome) => [outcome, outcomes.filter((item) => item === outcome).length]));
    expect(outcomes).toHaveLength(REQUESTS);
    // Retries absorb most faults; what is left is a documented upstream error, never our own.
    for (const outcome of Object.keys(counts)) {
      expect(["images", "503 upstream_unavailable", "504 upstream_timeout", "502 upstream_invalid_response"]).toContain(outcome);
    }
    expect(counts.images ?? 0).toBeGreaterThan(REQUESTS * 0.8);
    const stats = stack.simulator.stats();
    expect(stats.maxInFlight).toBeLessThanOrEqual(SLOTS);
    expect(stats.responses.rejected).toBe(0);
    console.log(JSON.stringify({ outcomes: counts, upstream: stats }));
  });
});
