import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";
import { sizeOf } from "./support/png.js";

let stack: PrivateStack;
beforeAll(async () => {
  stack = await startPrivateStack({ simulator: { latencyMs: 200 }, storage: "s3" });
  await stack.startWorker();
}, 60_000);
afterAll(() => stack?.stop());

describe("a storage outage", () => {
  it("holds the produced image and stores it once storage is back: the caller gets it, late but whole", async () => {
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0, timeout: 60_000 });
    await stack.objectStore!.stop();
    const pending = client.images.generate({ model: "private-model", prompt: "stored after the outage", size: "256x256", n: 2 });
    // The GPU answers at once; the worker is now retrying the upload.
    await expect.poll(() => stack.simulator.stats().responses.ok, { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await stack.objectStore!.restart();

    const result = await pending;
    expect(result.data).toHaveLength(2);
    for (const image of result.data!) {
      const download = await fetch(image.url!);
      expect(download.status).toBe(200);
      expect(sizeOf(Buffer.from(await download.arrayBuffer()))).toBe("256x256");
    }
    // One generation: the image was held and stored, not generated again.
    expect(stack.simulator.stats().responses.ok).toBe(1);
  });
});
