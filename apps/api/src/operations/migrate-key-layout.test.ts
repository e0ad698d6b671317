import { useScratchRedis } from "@imagegen/local-services/testing";
import { recordKeys, workspaceKeys } from "@imagegen/shared";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspaceStore } from "../workspaces/store.js";
import { migrateKeyLayout, taggedKeyName } from "./migrate-key-layout.js";

let redis: Redis;
const scratch = useScratchRedis("api-migrate");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

describe("migrate key-layout", () => {
  it("maps every old record key to the tagged key the service now reads", () => {
    expect(taggedKeyName("ig", "ig:workspace:acme")).toBe(workspaceKeys("ig").workspace("acme"));
    expect(taggedKeyName("ig", "ig:api-key:abc123def456")).toBe(workspaceKeys("ig").apiKey("abc123def456"));
    expect(taggedKeyName("ig", "ig:workspace-keys:acme")).toBe(workspaceKeys("ig").workspaceKeyIds("acme"));
    expect(taggedKeyName("ig", "ig:batch-results:batch_1")).toBe(recordKeys("ig").batchResults("batch_1"));
    expect(taggedKeyName("ig", `ig:idempotency:acme:${"a".repeat(64)}`)).toBe(recordKeys("ig").idempotency("acme", "a".repeat(64)));
    for (const untouched of ["ig:workspaces", "ig:workspace:{acme}", "other:workspace:acme", "ig:generate-image:wait", "ig:ratelimit:workspace:acme:requests:minute"]) {
      expect(taggedKeyName("ig", untouched), untouched).toBeUndefined();
    }
  });

  it("makes a workspace and its keys written in the old layout readable again, once", async () => {
    await redis.hset("old:workspace:acme", { id: "acme", name: "Acme", models: '"*"', limits: "{}", created_at: "1", webhook_secret: "whsec_x" });
    await redis.sadd("old:workspaces", "acme");
    const store = createWorkspaceStore({ redis, prefix: "old" });
    expect(await store.getWorkspace("acme")).toBeUndefined();

    expect(await migrateKeyLayout(redis, "old")).toMatchObject({ renamed: 1, queuedJobsLeft: 0 });
    expect(await store.getWorkspace("acme")).toMatchObject({ id: "acme", name: "Acme" });
    expect(await migrateKeyLayout(redis, "old")).toMatchObject({ renamed: 0 });
  });
});
