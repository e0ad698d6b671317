import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ServiceError } from "@imagegen/shared";
import type { Request } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { receiveEditUpload } from "../edits/receive-upload.js";
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

const boundary = "----upload-test";
const part = (name: string, value: string, filename?: string) =>
  `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ""}\r\n\r\n${value}\r\n`;
/** A part's head and the start of its bytes, as a caller that hangs up mid-part sent it. */
const partStart = (name: string, filename: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n\r\n${"y".repeat(50_000)}`;
const overTheFieldLimit = Array.from({ length: 11 }, (_, index) => part(`extra${index}`, "x")).join("") + part("purpose", "batch");
const pause = () => new Promise((resolve) => setTimeout(resolve, 100));

/** A request body the test feeds by hand, as Express hands it to the route. */
function multipartRequest(): { req: Request; body: PassThrough } {
  const body = new PassThrough();
  const headers = { "content-type": `multipart/form-data; boundary=${boundary}` };
  return { body, req: Object.assign(body, { headers, is: (type: string) => (type === "multipart/form-data" ? type : false) }) as unknown as Request };
}

/** What would end the process: an unhandled rejection, or an 'error' event nobody listens to. */
async function processFailuresDuring(run: () => Promise<void>): Promise<unknown[]> {
  const failures: unknown[] = [];
  const onFailure = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", onFailure);
  process.on("uncaughtException", onFailure);
  try {
    await run();
    await pause();
  } finally {
    process.off("unhandledRejection", onFailure);
    process.off("uncaughtException", onFailure);
  }
  return failures;
}

const messageOf = (error: unknown) => (error instanceof ServiceError ? error.message : String(error));
const codeOf = (error: unknown) => (error instanceof ServiceError ? error.code : String(error));

describe("an upload refused mid-body", () => {
  it("reads the rest of the body before refusing, and leaves nothing behind, even when the file part comes later", async () => {
    const tmpDir = scratch();
    const failures = await processFailuresDuring(async () => {
      const { req, body } = multipartRequest();
      const outcome = spoolUpload(req, { maxBytes: 1_000_000, tmpDir }).then(() => "accepted", messageOf);
      body.write(overTheFieldLimit);
      // Time for a refusal given at once to remove the spool folder.
      await pause();
      // The file part arrives, and the body's end a moment later: the part is not spooled into a folder that is gone.
      body.write(part("file", '{"custom_id":"a"}\n', "in.jsonl"));
      await pause();
      body.end(`--${boundary}--\r\n`);
      expect(await outcome).toMatch(/too many fields/);
    });
    expect(failures).toEqual([]);
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("an upload with more than one file", () => {
  it("is refused naming the field, not cut down to its first file, and leaves nothing behind", async () => {
    const tmpDir = scratch();
    const { req, body } = multipartRequest();
    const outcome = spoolUpload(req, { maxBytes: 1_000_000, tmpDir }).then(() => "accepted", (error: unknown) => error);
    body.end(part("purpose", "batch") + part("file", "{}\n", "a.jsonl") + part("file", "{}\n", "b.jsonl") + `--${boundary}--\r\n`);
    expect(await outcome).toMatchObject({ code: "invalid_payload", param: "file", message: expect.stringMatching(/more than one file/) });
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("a caller hanging up in the middle of a file part we do not keep", () => {
  /**
   * Sends `sent` (ending inside a file part the receiver drains), then hangs
   * up: what the receiver answered, what would have ended the process, and
   * what it left in its folder.
   */
  async function hangUpAfter(sent: string, receive: (req: Request, tmpDir: string) => Promise<unknown>) {
    const tmpDir = scratch();
    let answer: unknown;
    const failures = await processFailuresDuring(async () => {
      const { req, body } = multipartRequest();
      const outcome = receive(req, tmpDir).then(() => "accepted", codeOf);
      body.write(sent);
      await pause();
      body.destroy(new Error("aborted"));
      answer = await outcome;
    });
    return { answer, failures, left: readdirSync(tmpDir) };
  }

  it("ends a Files API upload refused for its fields as a bad upload, and the process lives", async () => {
    const outcome = await hangUpAfter(overTheFieldLimit + partStart("file", "in.jsonl"), (req, tmpDir) => spoolUpload(req, { maxBytes: 1_000_000, tmpDir }));
    expect(outcome).toEqual({ answer: "invalid_payload", failures: [], left: [] });
  });

  it("ends an edit with an unexpected file field as a bad upload, and the process lives", async () => {
    const outcome = await hangUpAfter(part("prompt", "a fox") + partStart("not-an-image", "x.png"), (req, tmpDir) =>
      receiveEditUpload(req, { maxImageBytes: 1_000_000, tmpDir }),
    );
    expect(outcome).toEqual({ answer: "invalid_payload", failures: [], left: [] });
  });
});
