import { describe, expect, it } from "vitest";
import { assertPublicUrl, BlockedAddressError, guardedLookup, isPrivateAddress } from "./address-guard.js";

describe("webhook address guard", () => {
  it.each([
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:7f00:1",
    // IPv4-compatible (deprecated) and IPv4-translated forms reach IPv4 hosts too.
    "::7f00:1", "::127.0.0.1", "::a00:1", "::ffff:0:7f00:1", "::ffff:0:127.0.0.1", "::ffff:0:a00:1", "0:0:0:0:ffff:0:7f00:1",
  ])("treats %s as private", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("treats %s as public", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it("refuses URLs whose host is a private IP literal, unless allowed", () => {
    expect(() => assertPublicUrl("http://127.0.0.1:8080/hook", false)).toThrow(BlockedAddressError);
    expect(() => assertPublicUrl("http://[::1]/hook", false)).toThrow(BlockedAddressError);
    expect(() => assertPublicUrl("http://[::7f00:1]/hook", false)).toThrow(BlockedAddressError);
    expect(() => assertPublicUrl("http://[::ffff:0:7f00:1]:8080/hook", false)).toThrow(BlockedAddressError);
    expect(() => assertPublicUrl("http://127.0.0.1:8080/hook", true)).not.toThrow();
    expect(() => assertPublicUrl("https://hooks.example.com/x", false)).not.toThrow();
  });

  it("refuses a name that resolves only to loopback when the connection is made", async () => {
    const lookup = guardedLookup(false);
    const error = await new Promise<Error | null>((resolve) => lookup("localhost", {}, (failure) => resolve(failure)));
    expect(error).toBeInstanceOf(BlockedAddressError);
    const allowed = await new Promise<Error | null>((resolve) => guardedLookup(true)("localhost", {}, (failure) => resolve(failure)));
    expect(allowed).toBeNull();
  });
});
