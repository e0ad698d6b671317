import { createHash, timingSafeEqual } from "node:crypto";

export interface Principal {
  workspaceId: string;
  /** First characters of the key, safe to log; never the key itself. */
  keyPrefix: string;
  /** Stable, non-secret id of the key (part of its hash), for rate limits. */
  keyId: string;
}

export interface ApiKeyVerifier {
  verify(presentedKey: string): Principal | undefined;
}

export function sha256Hex(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

const DEFAULT_WORKSPACE = "default";

/**
 * Keys given at start-up, for the default workspace. Only their SHA-256
 * digests are kept; a presented key is hashed and compared against every
 * stored digest in constant time, so timing reveals nothing about which
 * digest came close.
 */
export function createStaticApiKeyVerifier(keys: { plaintext: readonly string[]; sha256Hex: readonly string[] }): ApiKeyVerifier {
  const digests = [...keys.plaintext.map((key) => sha256Hex(key)), ...keys.sha256Hex.map((hex) => Buffer.from(hex, "hex"))];
  return {
    verify(presentedKey) {
      const presented = sha256Hex(presentedKey);
      let match: Buffer | undefined;
      for (const digest of digests) {
        if (timingSafeEqual(digest, presented)) match = digest;
      }
      if (!match) return undefined;
      return {
        workspaceId: DEFAULT_WORKSPACE,
        keyPrefix: presentedKey.slice(0, 8),
        keyId: match.toString("hex").slice(0, 16),
      };
    },
  };
}
