import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";

let stack: PrivateStack;
let workerHealthUrl: string;
beforeAll(async () => {
  stack = await startPrivateStack({ simulator: {} });
  workerHealthUrl = (await stack.startWorker()).healthUrl;
}, 60_000);
afterAll(() => stack?.stop());

const client = () => new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0 });

/** One round of calls that each need Redis: async submit and poll, files, batches. */
async function callsNeedingRedis(jobId: string): Promise<Array<{ call: string; status: number; code: string | undefined }>> {
  const headers = { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" };
  const calls: Array<[string, string, RequestInit]> = [
    [
      "async generation",
      "/v1/images/generations",
      { method: "POST", headers: { ...headers, prefer: "respond-async" }, body: JSON.stringify({ model: "private-model", prompt: "p", size: "256x256" }) },
    ],
    ["job status", `/v1/images/generations/${jobId}`, { headers }],
    ["get file", "/v1/files/file-0123456789abcdef01234567", { headers }],
    ["list batches", "/v1/batches", { headers }],
    ["get batch", "/v1/batches/batch_0123456789abcdef01234567", { headers }],
    [
      "create batch",
      "/v1/batches",
      { method: "POST", headers, body: JSON.stringify({ input_file_id: "file-0123456789abcdef01234567", endpoint: "/v1/images/generations", completion_window: "24h" }) },
    ],
  ];
  return Promise.all(
    calls.map(async ([call, path, init]) => {
      const response = await fetch(`${stack.apiUrl}${path}`, init);
      const body = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
      return { call, status: response.status, code: body.error?.code };
    }),
  );
}

describe("while Redis is gone", () => {
  it("every call that needs it is answered 503 service_unavailable, from the first moment, never 500", async () => {
    const accepted = await client().images.generate({ model: "private-model", prompt: "before", size: "256x256" });
    expect(accepted.data).toHaveLength(1);
    const job = (await (
      await fetch(`${stack.apiUrl}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", prefer: "respond-async" },
        body: JSON.stringify({ model: "private-model", prompt: "p", size: "256x256" }),
      })
    ).json()) as { id: string };

    await stack.redis.kill();
    const seen: Array<{ call: string; status: number; code: string | undefined }> = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) seen.push(...(await callsNeedingRedis(job.id)));
    await stack.redis.restart();

    const wrong = seen.filter((reply) => reply.status !== 503 || reply.code !== "service_unavailable");
    expect(wrong).toEqual([]);
    expect(seen.length).toBeGreaterThan(12);
    // And it heals by itself.
    await expect.poll(async () => (await callsNeedingRedis(job.id)).map((reply) => reply.status), { timeout: 15_000, interval: 500 }).not.toContain(503);
  }, 40_000);

  it("both readiness probes answer 503 within 2 s, saying Redis, instead of hanging", async () => {
    await stack.redis.kill();
    try {
      for (const url of [`${stack.apiUrl}/readyz`, `${workerHealthUrl}/readyz`]) {
        const started = Date.now();
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        expect(Date.now() - started, url).toBeLessThan(2_500);
        expect(response.status, url).toBe(503);
        expect(((await response.json()) as { reason: string }).reason, url).toMatch(/^redis: /);
      }
    } finally {
      await stack.redis.restart();
    }
    await expect.poll(async () => (await fetch(`${workerHealthUrl}/readyz`)).status, { timeout: 15_000, interval: 500 }).toBe(200);
  }, 40_000);
});

describe("a Redis that answers PING but cannot serve the keys", () => {
  it("makes both readiness probes answer 503, then 200 again once it can", async () => {
    const admin = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    try {
      await expect.poll(async () => (await fetch(`${stack.apiUrl}/readyz`)).status, { timeout: 15_000, interval: 500 }).toBe(200);
      // A read-only replica of a master that is not there: PING works, every write fails with READONLY.
      await admin.call("REPLICAOF", "127.0.0.1", "1");
      for (const url of [`${stack.apiUrl}/readyz`, `${workerHealthUrl}/readyz`]) {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        expect(response.status, url).toBe(503);
        expect(((await response.json()) as { reason: string }).reason, url).toMatch(/^redis: .*READONLY/);
      }
    } finally {
      await admin.call("REPLICAOF", "NO", "ONE");
      admin.disconnect();
    }
    for (const url of [`${stack.apiUrl}/readyz`, `${workerHealthUrl}/readyz`]) {
      await expect.poll(async () => (await fetch(url)).status, { timeout: 15_000, interval: 500 }).toBe(200);
    }
  }, 40_000);
});
