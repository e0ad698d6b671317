import { useScratchRedis } from "@imagegen/local-services/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionStore } from "./session-store.js";

let redis: Redis;

const scratch = useScratchRedis("api-sessions");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

const identity = { workspace_id: "acme", role: "admin" as const, key_prefix: "igk_abcdefghijkl", minted_key_id: "abcdefghijkl", key_digest: "a".repeat(64) };

describe("console sessions in Redis", () => {
  it("keep only the token's digest, expire with Redis, and are gone once deleted", async () => {
    let now = 1_800_000_000;
    const store = createSessionStore({ redis, prefix: "s1", ttlSeconds: 600, nowSeconds: () => now });
    const { token, session } = await store.create(identity);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toMatchObject({ ...identity, created_at: now, expires_at: now + 600 });
    const [key] = await redis.keys("s1:console-session:*");
    expect(key).not.toContain(token);
    expect(await redis.get(key!)).not.toContain(token);
    expect(await redis.ttl(key!)).toBeGreaterThan(590);
    expect(await store.find(token)).toEqual(session);

    // A session past its expiry is refused even if Redis still holds it.
    now += 601;
    expect(await store.find(token)).toBeUndefined();
    now -= 601;
    await store.delete(token);
    expect(await store.find(token)).toBeUndefined();
  });

  it("never looks up a token of the wrong shape", async () => {
    const store = createSessionStore({ redis, prefix: "s2", ttlSeconds: 600 });
    for (const token of ["", "../../x", "*", "A".repeat(44)]) expect(await store.find(token)).toBeUndefined();
  });
});
