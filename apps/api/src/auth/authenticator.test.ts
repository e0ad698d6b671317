import { createModelCatalog, createLogger, ServiceError, type WorkspaceRecord } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import type { KeyRecord } from "../workspaces/key-record.js";
import type { WorkspaceStore } from "../workspaces/store.js";
import { createStaticKeyMatcher } from "./api-keys.js";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { createAuthenticator } from "./authenticator.js";
import { mintKey } from "./key-format.js";

const workspace = (id: string): WorkspaceRecord => ({ id, name: id, models: "*", limits: {}, webhook_secret: "whsec_x", created_at: 0, weight: 1 });

function setup(options: { blockedMs?: number } = {}) {
  let now = 1_800_000_000_000;
  const minted = mintKey();
  const keys = new Map<string, KeyRecord>([
    [minted.keyId, { id: minted.keyId, workspace_id: "acme", name: "ci", role: "member", secret_hash: minted.hash.toString("hex"), created_at: 0 }],
  ]);
  const reads: string[] = [];
  const failures: string[] = [];
  const store = {
    getKey: async (id: string) => (reads.push(id), keys.get(id)),
    getWorkspace: async (id: string) => (id === "acme" || id === "default" ? workspace(id) : undefined),
    touchKey: async () => {},
  } as unknown as WorkspaceStore;
  const limiter: AuthFailureLimiter = {
    blockedForMs: async () => options.blockedMs ?? 0,
    recordFailure: async (address) => void failures.push(address),
  };
  const authenticator = createAuthenticator({
    store,
    staticKeys: createStaticKeyMatcher({ plaintext: ["sk-env-key-0123456789"], sha256Hex: [], adminPlaintext: ["sk-env-admin-0123456789"] }),
    failures: limiter,
    catalogFor: () => createModelCatalog([]),
    cacheTtlMs: 2000,
    log: createLogger({ name: "test", level: "silent" }),
    nowMs: () => now,
  });
  return { authenticator, minted, keys, reads, failures, advance: (ms: number) => (now += ms) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(ServiceError);
  return (error as ServiceError).code;
}

describe("authenticating Bearer keys", () => {
  it("maps a minted key to its workspace and logs only its public prefix", async () => {
    const { authenticator, minted } = setup();
    const principal = await authenticator.authenticate(minted.plaintext, "10.0.0.1");
    expect(principal).toMatchObject({ workspaceId: "acme", keyId: minted.keyId, keyPrefix: `igk_${minted.keyId}` });
    expect(minted.plaintext.includes(principal.keyPrefix)).toBe(true);
    expect(principal.keyPrefix.length).toBeLessThan(20);
  });

  it("maps keys from the environment to the default workspace", async () => {
    const { authenticator } = setup();
    const principal = await authenticator.authenticate("sk-env-key-0123456789", "10.0.0.1");
    expect(principal.workspaceId).toBe("default");
    expect(principal.keyPrefix).not.toContain("sk-env-key");
  });

  it("serves a verified key from the cache within its TTL, then asks Redis again", async () => {
    const { authenticator, minted, reads, advance } = setup();
    await authenticator.authenticate(minted.plaintext, "a");
    await authenticator.authenticate(minted.plaintext, "a");
    expect(reads).toHaveLength(1);
    advance(2001);
    await authenticator.authenticate(minted.plaintext, "a");
    expect(reads).toHaveLength(2);
  });

  it("drops a revoked key from the cache when told, at once", async () => {
    const { authenticator, minted, keys } = setup();
    await authenticator.authenticate(minted.plaintext, "a");
    keys.set(minted.keyId, { ...keys.get(minted.keyId)!, revoked_at: 1 });
    authenticator.invalidate({ kind: "key", id: minted.keyId });
    expect(await refusal(authenticator.authenticate(minted.plaintext, "a"))).toBe("unauthorized");
  });

  it("asks Redis for a wrong secret of a cached key id, exactly as for an unknown id", async () => {
    const { authenticator, minted, reads, failures } = setup();
    await authenticator.authenticate(minted.plaintext, "a");
    const wrongSecret = `igk_${minted.keyId}_${"x".repeat(43)}`;
    const unknownId = `igk_zzzzzzzzzzzz_${"x".repeat(43)}`;
    expect(await refusal(authenticator.authenticate(wrongSecret, "b"))).toBe("unauthorized");
    expect(await refusal(authenticator.authenticate(unknownId, "b"))).toBe("unauthorized");
    expect(reads).toEqual([minted.keyId, minted.keyId, "zzzzzzzzzzzz"]);
    expect(failures).toEqual(["b", "b"]);
  });

  it("refuses wrong keys from an address over the failure limit with 429, but lets a good key not yet cached through", async () => {
    const { authenticator, minted } = setup({ blockedMs: 30_000 });
    expect(await refusal(authenticator.authenticate(`${minted.plaintext.slice(0, -1)}x`, "a"))).toBe("rate_limited");
    expect((await authenticator.authenticate(minted.plaintext, "a")).keyId).toBe(minted.keyId);
  });

  it("answers a missing key with 401 without counting it as a guess", async () => {
    const { authenticator, failures } = setup();
    expect(await refusal(authenticator.authenticate(undefined, "a"))).toBe("unauthorized");
    expect(failures).toEqual([]);
  });
});

describe("roles and sessions", () => {
  it("gives keys from the environment the member role, and the bootstrap key configured as admin the admin role", async () => {
    const { authenticator } = setup();
    expect((await authenticator.authenticate("sk-env-key-0123456789", "a")).role).toBe("member");
    expect((await authenticator.authenticate("sk-env-admin-0123456789", "a")).role).toBe("admin");
  });

  it("re-verifies a session's key digest like a presented key: a revoked key opens nothing once its cache entry lapses", async () => {
    const { authenticator, minted, keys, advance } = setup();
    const principal = await authenticator.principalForDigest(minted.keyId, minted.hash);
    expect(principal).toMatchObject({ workspaceId: "acme", role: "member" });
    keys.set(minted.keyId, { ...keys.get(minted.keyId)!, revoked_at: 1 });
    authenticator.invalidate({ kind: "key", id: minted.keyId });
    expect(await authenticator.principalForDigest(minted.keyId, minted.hash)).toBeUndefined();
    advance(1);
    // A digest of nothing known opens nothing.
    expect(await authenticator.principalForDigest(undefined, Buffer.alloc(32, 1))).toBeUndefined();
  });
});
