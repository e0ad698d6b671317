import { createHash, randomBytes, randomInt } from "node:crypto";

/**
 * Minted API keys look like `igk_<public id>_<secret>`:
 * - `igk_` makes a leaked key recognisable to secret scanners and to people;
 * - the 12-character public id (lowercase letters and digits, ~62 bits)
 *   finds the key's record in O(1) and is safe to show and log;
 * - the secret is 32 random bytes (256 bits) in base64url, 43 characters.
 *
 * With 256 bits of entropy no guessing is feasible, so a fast hash (SHA-256)
 * is enough to store them; a slow KDF (bcrypt, scrypt) protects low-entropy
 * passwords and would only add milliseconds to every request.
 */
export const KEY_PREFIX = "igk_";
const PUBLIC_ID_LENGTH = 12;
const SECRET_BYTES = 32;
const PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const MINTED_KEY = /^igk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID_PATTERN = /^[a-z0-9]{12}$/;

export interface MintedKey {
  /** The whole key, shown to its owner once and never stored. */
  plaintext: string;
  keyId: string;
  /** SHA-256 of the whole key: what we store. */
  hash: Buffer;
}

export function newKeyId(): string {
  let id = "";
  for (let i = 0; i < PUBLIC_ID_LENGTH; i++) id += PUBLIC_ID_ALPHABET[randomInt(PUBLIC_ID_ALPHABET.length)];
  return id;
}

export function hashKey(plaintext: string): Buffer {
  return createHash("sha256").update(plaintext).digest();
}

/** A new secret for a key id: minting uses a fresh id, rotation keeps the id. */
export function mintKey(keyId = newKeyId()): MintedKey {
  const plaintext = `${KEY_PREFIX}${keyId}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { plaintext, keyId, hash: hashKey(plaintext) };
}

/** The public id of a well-formed minted key; undefined for anything else (e.g. keys from env). */
export function parseMintedKey(presented: string): { keyId: string } | undefined {
  const match = MINTED_KEY.exec(presented);
  return match ? { keyId: match[1]! } : undefined;
}

/** What logs and listings show of a key: enough to tell keys apart, nothing to authenticate with. */
export function displayPrefix(keyId: string): string {
  return `${KEY_PREFIX}${keyId}`;
}
