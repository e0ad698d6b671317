import { useScratchRedis } from "@imagegen/local-services/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORD_RETENTION_SECONDS } from "../redis-keys.js";
import { createFileRecords } from "./file-records.js";
import { createGenerationRecords } from "./generation-records.js";
import { writeHashWithTtl } from "./hash-with-ttl.js";

let redis: Redis;

const scratch = useScratchRedis("shared-hash-ttl");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

describe("records written with their retention", () => {
  it("writes the defined fields and the expiry in one step", async () => {
    await writeHashWithTtl(redis, "t:record", { id: "a", count: 3, note: undefined }, 120);
    expect(await redis.hgetall("t:record")).toEqual({ id: "a", count: "3" });
    const ttl = await redis.ttl("t:record");
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it("refuses a record with nothing to write rather than leaving a key without retention", async () => {
    await expect(writeHashWithTtl(redis, "t:empty", { note: undefined }, 120)).rejects.toThrow(/at least one field/);
    expect(await redis.exists("t:empty")).toBe(0);
  });

  it("gives generation and file records the retention callers are promised", async () => {
    const generations = createGenerationRecords(redis, "ttl");
    await generations.create({ id: "gen_ttl", workspace: "acme", model: "sdxl", responseFormat: "url", webhookUrl: undefined });
    expect(await generations.get("gen_ttl")).toMatchObject({ id: "gen_ttl", status: "queued", workspace: "acme" });
    expect((await generations.get("gen_ttl"))?.webhook_url).toBeUndefined();

    const files = createFileRecords(redis, "ttl");
    const file = { id: "file_ttl", workspace: "acme", filename: "in.jsonl", purpose: "batch" as const, bytes: 12, created_at: 1, storage_key: "files/acme/file_ttl.jsonl", format: "jsonl" as const };
    await files.create(file);
    expect(await files.get("file_ttl", "acme")).toMatchObject(file);

    for (const key of [...(await redis.keys("ttl*gen_ttl*")), ...(await redis.keys("ttl*file_ttl*"))]) {
      expect(await redis.ttl(key)).toBeGreaterThan(RECORD_RETENTION_SECONDS - 10);
    }
    expect((await redis.keys("ttl*")).length).toBe(2);
  });
});
