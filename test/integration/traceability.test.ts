import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { GENERATE_IMAGE_QUEUE, queuePrefix } from "@imagegen/shared";
import { afterAll, describe, expect, it } from "vitest";
import { openaiClient, redisInfo, suite } from "./support/context.js";

const redis = new Redis(redisInfo().url);
afterAll(() => redis.quit());

function logLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(join(suite().logDir, file), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("what operators can trace", () => {
  it("finds a request's id in the API's and the worker's log lines, and never the API key", async () => {
    const { response } = await openaiClient(suite().stacks.fs).images.generate({ model: "test-single", prompt: "trace me" }).withResponse();
    const requestId = response.headers.get("x-request-id")!;
    await expect
      .poll(() => logLines("worker-fs.log").filter((line) => line.requestId === requestId).length, { timeout: 5000 })
      .toBeGreaterThan(0);
    // The access line is written when the response has gone out; the log file catches up a moment later.
    await expect.poll(() => logLines("api-fs.log").filter((line) => line.requestId === requestId).map((line) => line.msg), { timeout: 5000 }).toContain("request");
    for (const file of ["api-fs.log", "worker-fs.log", "api-s3.log", "worker-s3.log"]) {
      expect(readFileSync(join(suite().logDir, file), "utf8")).not.toContain(suite().apiKey);
    }
  });

  it("keeps only references in Redis: the job holds storage keys, never image bytes", async () => {
    const { response } = await openaiClient(suite().stacks.fs)
      .images.generate({ model: "test-sdxl", prompt: "keep me out of redis", n: 2, size: "1024x1024", response_format: "b64_json" })
      .withResponse();
    const requestId = response.headers.get("x-request-id")!;
    const job = await redis.hgetall(`${queuePrefix(redisInfo().prefixes.fs, GENERATE_IMAGE_QUEUE)}:${GENERATE_IMAGE_QUEUE}:${requestId}`);
    const result = JSON.parse(job.returnvalue!) as { images: Array<{ key: string }> };
    expect(result.images.map((image) => image.key)).toEqual([
      expect.stringMatching(new RegExp(`^images/\\d{4}-\\d{2}-\\d{2}/default/${requestId}-0\\.png$`)),
      expect.stringMatching(new RegExp(`^images/\\d{4}-\\d{2}-\\d{2}/default/${requestId}-1\\.png$`)),
    ]);
    const stored = Object.values(job).join("");
    expect(stored.length).toBeLessThan(4096);
    expect(stored).not.toContain("iVBORw0KGgo"); // base64 of the PNG signature
    expect(stored).not.toContain(suite().apiKey);
  });
});
