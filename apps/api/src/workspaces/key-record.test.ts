import { describe, expect, it } from "vitest";
import { hashKey } from "../auth/key-format.js";
import { checkKey, keyRecordSchema, publicKeyView, type KeyRecord } from "./key-record.js";

const NOW = 1_800_000_000;
const current = "igk_abcdefghijkl_current-secret-current-secret-current-sec";
const previous = "igk_abcdefghijkl_previous-secret-previous-secret-previous-";

function record(fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: "abcdefghijkl",
    workspace_id: "acme",
    name: "ci",
    role: "member",
    secret_hash: hashKey(current).toString("hex"),
    created_at: NOW - 100,
    ...fields,
  };
}

describe("checking a presented key against its record", () => {
  it("accepts the current secret and refuses any other", () => {
    expect(checkKey(record(), hashKey(current), NOW)).toBe("valid");
    expect(checkKey(record(), hashKey(previous), NOW)).toBe("invalid");
  });

  it("refuses everything for an unknown key id", () => {
    expect(checkKey(undefined, hashKey(current), NOW)).toBe("invalid");
  });

  it("accepts the replaced secret during the rotation grace period, then refuses it", () => {
    const rotated = record({ previous_secret_hash: hashKey(previous).toString("hex"), previous_secret_expires_at: NOW + 60 });
    expect(checkKey(rotated, hashKey(previous), NOW)).toBe("valid");
    expect(checkKey(rotated, hashKey(previous), NOW + 59)).toBe("valid");
    expect(checkKey(rotated, hashKey(previous), NOW + 60)).toBe("invalid");
    expect(checkKey(rotated, hashKey(current), NOW + 60)).toBe("valid");
  });

  it("refuses an expired key from its expiry on", () => {
    const expiring = record({ expires_at: NOW + 10 });
    expect(checkKey(expiring, hashKey(current), NOW + 9)).toBe("valid");
    expect(checkKey(expiring, hashKey(current), NOW + 10)).toBe("invalid");
  });

  it("refuses a revoked key, including its replaced secret still in grace", () => {
    const revoked = record({
      revoked_at: NOW,
      previous_secret_hash: hashKey(previous).toString("hex"),
      previous_secret_expires_at: NOW + 3600,
    });
    expect(checkKey(revoked, hashKey(current), NOW)).toBe("invalid");
    expect(checkKey(revoked, hashKey(previous), NOW)).toBe("invalid");
  });
});

describe("key records", () => {
  it("parse from a Redis hash of strings", () => {
    const parsed = keyRecordSchema.parse({
      id: "abcdefghijkl",
      workspace_id: "acme",
      name: "ci",
      secret_hash: "a".repeat(64),
      created_at: String(NOW),
      expires_at: String(NOW + 5),
      limits: '{"requests_per_minute":10}',
    });
    // Records written before roles existed are members.
    expect(parsed).toMatchObject({ created_at: NOW, expires_at: NOW + 5, limits: { requests_per_minute: 10 }, role: "member" });
    expect(keyRecordSchema.parse({ ...parsed, created_at: String(NOW), limits: "{}", role: "admin" }).role).toBe("admin");
  });

  it("are listed without any hash", () => {
    const view = publicKeyView(record({ previous_secret_hash: "b".repeat(64), previous_secret_expires_at: NOW }));
    expect(JSON.stringify(view)).not.toMatch(/[0-9a-f]{64}/);
    expect(view).toMatchObject({ id: "abcdefghijkl", prefix: "igk_abcdefghijkl", workspace_id: "acme", revoked_at: null });
  });
});
