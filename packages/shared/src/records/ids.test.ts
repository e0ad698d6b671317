import { describe, expect, it } from "vitest";
import { isPublicId, newId } from "./ids.js";

describe("public ids", () => {
  it("recognises every id it mints, by kind", () => {
    for (const kind of ["req", "gen", "file", "batch", "batch_req", "msg"] as const) {
      const id = newId(kind);
      expect(isPublicId(id)).toBe(true);
      expect(isPublicId(id, [kind])).toBe(true);
    }
    expect(isPublicId(newId("batch_req"), ["batch"])).toBe(false);
    expect(isPublicId(newId("gen"), ["file", "batch"])).toBe(false);
  });

  it("refuses anything a caller could use to reach other Redis keys", () => {
    for (const id of ["", "gen_", "gen_xyz", `gen_${"0".repeat(23)}`, `gen_${"0".repeat(25)}`, `gen_${"A".repeat(24)}`, `gen-${"0".repeat(24)}`, `file_${"0".repeat(24)}`, `gen_${"0".repeat(23)}*`, `../gen_${"0".repeat(24)}`]) {
      expect(isPublicId(id), id).toBe(false);
    }
  });
});
