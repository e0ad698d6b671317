import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ServiceError } from "@imagegen/shared";
import type { Request } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { prepareUploadDir, spoolUpload, sweepStaleUploads } from "./upload.js";

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

describe("an upload refused mid-body", () => {
  it("reads the rest of the body before refusing, and leaves nothing behind, even when the file part comes later", async () => {
    const tmpDir = scratch();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const boundary = "----upload-test";
      const part = (name: string, value: string, filename?: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ""}\r\n\r\n${value}\r\n`;
      // A request body this test feeds by hand: the fields first (over the limit), the file part later.
      const body = new PassThrough();
      const headers = { "content-type": `multipart/form-data; boundary=${boundary}` };
      const req = Object.assign(body, { headers, is: (type: string) => (type === "multipart/form-data" ? type : false) }) as unknown as Request;
      const outcome = spoolUpload(req, { maxBytes: 1_000_000, tmpDir }).then(
        () => "accepted",
        (error: unknown) => (error instanceof ServiceError ? error.message : String(error)),
      );
      body.write(Array.from({ length: 11 }, (_, index) => part(`extra${index}`, "x")).join("") + part("purpose", "batch"));
      // Time for a refusal given at once to remove the spool folder.
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The file part arrives, and the body's end a moment later: the part is not spooled into a folder that is gone.
      body.write(part("file", '{"custom_id":"a"}\n', "in.jsonl"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      body.end(`--${boundary}--\r\n`);
      expect(await outcome).toMatch(/too many fields/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
      expect(readdirSync(tmpDir)).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
