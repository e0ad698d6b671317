import { readdirSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";
import { sizeOf } from "./support/png.js";

let stack: PrivateStack;
beforeAll(async () => {
  // Jobs are accepted while no worker runs (they wait in Redis), as some of these faults need.
  stack = await startPrivateStack({ simulator: { latencyMs: 1500 }, apiEnv: { REFUSE_WITHOUT_WORKERS: "false" } });
}, 60_000);
afterAll(() => stack?.stop());

const client = () => new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0, timeout: 60_000 });
const generate = (prompt: string) => client().images.generate({ model: "private-model", prompt, size: "256x256", n: 2, response_format: "b64_json" });

/** Every stored image file, by name (`{request id}-{index}.png`), across the store's day folders. */
function storedImages(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else files.push(entry.name);
    }
  };
  walk(root);
  return files;
}

describe("faults that must not lose an accepted request", () => {
  it("a worker killed in the middle of upstream calls: another worker runs its jobs, callers get their images, no duplicates", async () => {
    const doomed = await stack.startWorker();
    const calls = ["one", "two", "three"].map((prompt) => generate(`killed mid-call ${prompt}`).withResponse());
    await expect.poll(() => stack.simulator.stats().inFlight, { timeout: 10_000 }).toBe(3);
    await doomed.kill();
    const successor = await stack.startWorker();

    const results = await Promise.all(calls);
    for (const { data } of results) {
      expect(data.data).toHaveLength(2);
      for (const image of data.data!) expect(sizeOf(Buffer.from(image.b64_json!, "base64"))).toBe("256x256");
    }
    // Each request's images were stored under its own keys, once: a re-run overwrote, it did not add.
    const ids = results.map(({ response }) => response.headers.get("x-request-id")!);
    const files = storedImages(stack.imagesDir).filter((name) => ids.some((id) => name.startsWith(id)));
    expect(files.sort()).toEqual(ids.flatMap((id) => [`${id}-0.png`, `${id}-1.png`]).sort());
    expect(await successor.stop("SIGTERM", 30_000)).toBe(0);
  });

  it("a worker stopped gracefully (SIGTERM) finishes the jobs it holds before it exits", async () => {
    // The only worker: whatever completes, it completed.
    const leaving = await stack.startWorker();
    const before = stack.simulator.stats().responses.ok;
    const calls = ["a", "b"].map((prompt) => generate(`graceful ${prompt}`));
    await expect.poll(() => stack.simulator.stats().inFlight, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const exitCode = await leaving.stop("SIGTERM", 30_000);
    expect(exitCode).toBe(0);
    const results = await Promise.all(calls);
    expect(results.every((result) => result.data?.length === 2)).toBe(true);
    expect(stack.simulator.stats().responses.ok - before).toBeGreaterThanOrEqual(2);
  });

  it("Redis restarted: 503 at once while it is gone, then back by itself, and work accepted before is not lost", async () => {
    // Accepted while no worker runs: the job waits in Redis, in its append-only file.
    const accepted = await fetch(`${stack.apiUrl}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ model: "private-model", prompt: "survive a restart", size: "256x256" }),
    });
    expect(accepted.status).toBe(202);
    const job = (await accepted.json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, 1200)); // appendfsync everysec

    await stack.redis.kill();
    const started = Date.now();
    const refused = await apiErrorOf(generate("while redis is down"));
    expect(refused.status).toBe(503);
    expect(refused.code).toBe("service_unavailable");
    expect(Date.now() - started).toBeLessThan(5000);

    await stack.redis.restart();
    await stack.startWorker();
    await expect
      .poll(
        async () => {
          const response = await fetch(`${stack.apiUrl}/v1/images/generations/${job.id}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
          return response.ok ? ((await response.json()) as { status: string }).status : `http ${response.status}`;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe("succeeded");
    const after = await generate("after the restart");
    expect(after.data).toHaveLength(2);
  });
});

describe("an API replica killed while a caller waits", () => {
  it("still completes the job, and a retry with the same Idempotency-Key on another replica gets that result", async () => {
    await stack.startWorker();
    const doomed = await stack.startApi();
    const survivor = await stack.startApi();
    const key = `killed-api-${Date.now()}`;
    const body = JSON.stringify({ model: "private-model", prompt: "outlive my API", size: "256x256", response_format: "b64_json" });
    const send = (url: string) =>
      fetch(`${url}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", "idempotency-key": key },
        body,
      });
    const requestsBefore = stack.simulator.stats().requests;
    const lost = send(doomed.url).then(
      (response) => response.status,
      () => "connection lost",
    );
    await expect.poll(() => stack.simulator.stats().inFlight, { timeout: 10_000 }).toBeGreaterThan(0);
    await doomed.process.kill();
    expect(await lost).toBe("connection lost");

    const retry = await send(survivor.url);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const result = (await retry.json()) as { data: Array<{ b64_json: string }> };
    expect(sizeOf(Buffer.from(result.data[0]!.b64_json, "base64"))).toBe("256x256");
    // The original job's images: the GPU was asked once for this request, not twice.
    expect(stack.simulator.stats().requests - requestsBefore).toBe(1);
  });
});
