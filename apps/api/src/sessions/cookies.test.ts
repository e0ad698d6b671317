import { describe, expect, it } from "vitest";
import { clearedSessionCookie, readCookie, sessionCookie } from "./cookies.js";

describe("session cookie", () => {
  it("is HttpOnly and SameSite=Strict, and Secure only over TLS", () => {
    const plain = sessionCookie("s", "v", { maxAgeSeconds: 60, secure: false });
    expect(plain).toBe("s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
    expect(sessionCookie("s", "v", { maxAgeSeconds: 60, secure: true })).toMatch(/; Secure$/);
    expect(clearedSessionCookie("s", false)).toContain("Max-Age=0");
  });

  it("reads one cookie among several and ignores look-alikes", () => {
    expect(readCookie("a=1; imagegen_session=abc; b=2", "imagegen_session")).toBe("abc");
    expect(readCookie("ximagegen_session=abc", "imagegen_session")).toBeUndefined();
    expect(readCookie(undefined, "imagegen_session")).toBeUndefined();
  });
});
