import { timingSafeEqual } from "node:crypto";
import type { KeyRole } from "@imagegen/shared";
import { hashKey } from "./key-format.js";

/** The workspace that keys from the environment (API_KEYS, BOOTSTRAP_API_KEY, API_KEY_SHA256) belong to. */
export const DEFAULT_WORKSPACE = "default";

export interface StaticKeyMatch {
  /** Stable, non-secret id of the key (part of its digest), for logs and per-key limits. */
  keyId: string;
  /** What logs show of the key; never the key itself. */
  keyPrefix: string;
  role: KeyRole;
}

/**
 * Keys given at start-up belong to the default workspace. Only their SHA-256
 * digests are kept; the presented key's digest is compared against every
 * stored digest in constant time, so timing reveals nothing about which
 * digest came close. They are revoked by removing them from the environment.
 * They are members of the default workspace, except those in `adminPlaintext`
 * (the key `npm start` prints), which are its admins.
 */
export function createStaticKeyMatcher(keys: { plaintext: readonly string[]; sha256Hex: readonly string[]; adminPlaintext?: readonly string[] }) {
  const entries: Array<{ digest: Buffer; role: KeyRole }> = [
    ...keys.plaintext.map((key) => ({ digest: hashKey(key), role: "member" as const })),
    ...keys.sha256Hex.map((hex) => ({ digest: Buffer.from(hex, "hex"), role: "member" as const })),
    ...(keys.adminPlaintext ?? []).map((key) => ({ digest: hashKey(key), role: "admin" as const })),
  ];
  return {
    get size(): number {
      return entries.length;
    },
    match(presentedHash: Buffer): StaticKeyMatch | undefined {
      let match: { digest: Buffer; role: KeyRole } | undefined;
      // Every entry is compared; an admin entry of the same key wins over its member entry.
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, presentedHash) && (!match || entry.role === "admin")) match = entry;
      }
      if (!match) return undefined;
      const keyId = `env-${match.digest.toString("hex").slice(0, 12)}`;
      return { keyId, keyPrefix: keyId, role: match.role };
    },
  };
}
export type StaticKeyMatcher = ReturnType<typeof createStaticKeyMatcher>;
