import { describe, expect, it } from "vitest";
import { createRequestIdSource } from "./request-id.js";

describe("request ids", () => {
  it("are req_ and 24 hex digits, never repeated across refills of the random pool", () => {
    const next = createRequestIdSource();
    const ids = Array.from({ length: 2000 }, next);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("differ between sources, so two processes do not draw the same sequence", () => {
    const a = createRequestIdSource();
    const b = createRequestIdSource();
    expect(a()).not.toBe(b());
  });
});
