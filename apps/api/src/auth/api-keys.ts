import { timingSafeEqual } from "node:crypto";
import { hashKey } from "./key-format.js";

/** The workspace that keys from the environment (API_KEYS, BOOTSTRAP_API_KEY, API_KEY_SHA256) belong to. */
export const DEFAULT_WORKSPACE = "default";

export interface StaticKeyMatch {
  /** Stable, non-secret id of the key (part of its digest), for logs and per-key limits. */
  keyId: string;
  /** What logs show of the key; never the key itself. */
  keyPrefix: string;
}

/**
 * Keys given at start-up belong to the default workspace. Only their SHA-256
 * digests are kept; the presented key's digest is compared against every
 * stored digest in constant time, so timing reveals nothing about which
 * digest came close. They are revoked by removing them from the environment.
 */
export function createStaticKeyMatcher(keys: { plaintext: readonly string[]; sha256Hex: readonly string[] }) {
  const digests = [...keys.plaintext.map((key) => hashKey(key)), ...keys.sha256Hex.map((hex) => Buffer.from(hex, "hex"))];
  return {
    get size(): number {
      return digests.length;
    },
    match(presentedHash: Buffer): StaticKeyMatch | undefined {
      let match: Buffer | undefined;
      for (const digest of digests) {
        if (timingSafeEqual(digest, presentedHash)) match = digest;
      }
      if (!match) return undefined;
      const keyId = `env-${match.toString("hex").slice(0, 12)}`;
      return { keyId, keyPrefix: keyId };
    },
  };
}
export type StaticKeyMatcher = ReturnType<typeof createStaticKeyMatcher>;
