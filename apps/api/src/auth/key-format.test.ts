import { describe, expect, it } from "vitest";
import { displayPrefix, hashKey, mintKey, parseMintedKey } from "./key-format.js";

describe("minted API keys", () => {
  it("look like igk_<12-char id>_<43-char secret> and carry their id", () => {
    const key = mintKey();
    expect(key.plaintext).toMatch(/^igk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseMintedKey(key.plaintext)).toEqual({ keyId: key.keyId });
    expect(key.hash.equals(hashKey(key.plaintext))).toBe(true);
  });

  it("are different every time, even when rotating the same id", () => {
    const first = mintKey("abcdefghijkl");
    const second = mintKey("abcdefghijkl");
    expect(first.keyId).toBe(second.keyId);
    expect(first.plaintext).not.toBe(second.plaintext);
    expect(first.hash.equals(second.hash)).toBe(false);
  });

  it.each([
    ["an env-style key", "sk-test-0123456789abcdef"],
    ["a truncated secret", `igk_abcdefghijkl_${"a".repeat(42)}`],
    ["an uppercase id", `igk_ABCDEFGHIJKL_${"a".repeat(43)}`],
    ["a wrong prefix", `igx_abcdefghijkl_${"a".repeat(43)}`],
    ["trailing text", `igk_abcdefghijkl_${"a".repeat(43)}x`],
  ])("are not recognised in %s", (_name, text) => {
    expect(parseMintedKey(text)).toBeUndefined();
  });

  it("show only the public id, never the secret", () => {
    const key = mintKey();
    expect(displayPrefix(key.keyId)).toBe(`igk_${key.keyId}`);
    expect(key.plaintext.startsWith(displayPrefix(key.keyId))).toBe(true);
    expect(displayPrefix(key.keyId).length).toBeLessThan(key.plaintext.length - 40);
  });
});
