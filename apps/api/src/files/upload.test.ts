import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prepareUploadDir, sweepStaleUploads } from "./upload.js";

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "upload-test-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the upload spool directory", () => {
  it("sweeps only upload directories older than the threshold, and nothing else", async () => {
    const root = scratch();
    const nowMs = Date.now();
    for (const [name, ageMs] of [["imagegen-upload-old", 7200_000], ["imagegen-upload-fresh", 1000], ["someone-elses", 7200_000]] as const) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, "upload"), "x");
      const at = new Date(nowMs - ageMs);
      utimesSync(join(root, name), at, at);
    }
    expect(await sweepStaleUploads(root, 3600_000, nowMs)).toEqual(["imagegen-upload-old"]);
    expect(readdirSync(root).sort()).toEqual(["imagegen-upload-fresh", "someone-elses"]);
  });

  it("creates a missing directory at start, and refuses one it cannot write to with a message naming the setting", async () => {
    const missing = join(scratch(), "nested", "uploads");
    await prepareUploadDir(missing);
    expect(readdirSync(missing)).toEqual([]);
    const file = join(scratch(), "a-file");
    writeFileSync(file, "");
    await expect(prepareUploadDir(file)).rejects.toThrow(/UPLOAD_TMP_DIR/);
  });
});
