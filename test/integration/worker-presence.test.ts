import { describe, expect, it } from "vitest";
import { usePrivateStack } from "./support/private-stack.js";

const stack = usePrivateStack({ simulator: {} });

async function generate(prefer?: string): Promise<{ status: number; code: string | undefined; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${stack().apiUrl}/v1/images/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack().apiKey}`, "content-type": "application/json", ...(prefer ? { prefer } : {}) },
    body: JSON.stringify({ model: "private-model", prompt: "p", size: "256x256" }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, code: body.error?.code, ms: Date.now() - started };
}

const readiness = async () => {
  const response = await fetch(`${stack().apiUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { reason?: string } };
};

describe("when no worker consumes the queue", () => {
  it("answers sync and async generations with 503 at once, /readyz says why, and both recover when a worker returns", async () => {
    const worker = await stack().startWorker();
    expect((await generate()).status).toBe(200);
    expect((await readiness()).status).toBe(200);

    // Killed without a chance to say goodbye: its last heartbeat ages out within 5 s.
    await worker.kill();
    const killedAt = Date.now();
    await expect.poll(async () => (await readiness()).status, { timeout: 10_000, interval: 250 }).toBe(503);
    expect(Date.now() - killedAt).toBeLessThan(7_000);
    for (const prefer of [undefined, "respond-async"]) {
      const refused = await generate(prefer);
      expect(refused).toMatchObject({ status: 503, code: "service_unavailable" });
      expect(refused.ms).toBeLessThan(1000);
    }
    const unready = await readiness();
    expect(unready.status).toBe(503);
    expect(unready.body.reason).toMatch(/^workers: no worker has sent a heartbeat/);

    const successor = await stack().startWorker();
    expect((await generate()).status).toBe(200);
    expect((await readiness()).status).toBe(200);

    // A worker that stops gracefully withdraws at once (an API trusts a "present" answer for a second).
    await successor.stop("SIGTERM", 20_000);
    const stoppedAt = Date.now();
    await expect.poll(async () => (await readiness()).status, { timeout: 5_000, interval: 100 }).toBe(503);
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect((await generate()).status).toBe(503);
  }, 60_000);
});
