import { ServiceError } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import { checkCsrf, isCrossSite } from "./csrf.js";

const base = { ownOrigin: "http://127.0.0.1:8080", origin: undefined, fetchSite: undefined, sessionToken: "tok-123", presentedToken: "tok-123" };

describe("checkCsrf", () => {
  it("lets reads through without a token", () => {
    expect(() => checkCsrf({ ...base, method: "GET", presentedToken: undefined, origin: "https://evil.example" })).not.toThrow();
  });

  it("accepts a same-origin POST that echoes the session's token", () => {
    expect(() => checkCsrf({ ...base, method: "POST", origin: "http://127.0.0.1:8080", fetchSite: "same-origin" })).not.toThrow();
  });

  it.each([
    ["no token", { presentedToken: undefined }],
    ["a wrong token", { presentedToken: "tok-124" }],
    ["a token of another length", { presentedToken: "tok-1234" }],
    ["another site's Origin", { origin: "https://evil.example" }],
    ["a same-site but cross-origin fetch", { fetchSite: "same-site" }],
    ["a cross-site fetch", { fetchSite: "cross-site" }],
  ])("refuses a POST with %s as 403 forbidden naming the header", (_name, change) => {
    let thrown: unknown;
    try {
      checkCsrf({ ...base, method: "POST", ...change });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ServiceError);
    expect((thrown as ServiceError).code).toBe("forbidden");
    expect((thrown as ServiceError).param).toBe("X-CSRF-Token");
  });

  it("treats a typed-in address (Sec-Fetch-Site: none) as same-site", () => {
    expect(isCrossSite({ ownOrigin: base.ownOrigin, origin: undefined, fetchSite: "none" })).toBe(false);
  });
});
