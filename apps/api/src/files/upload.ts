import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { ServiceError } from "@imagegen/shared";
import busboy from "busboy";
import { discardFileStream, spoolFile } from "./spool-file.js";
import type { Request } from "express";

/** Every spooled upload lives in a directory named so; the start-up sweep finds leftovers by it. */
export const UPLOAD_DIR_PREFIX = "imagegen-upload-";

export interface SpooledUpload {
  purpose: string;
  filename: string;
  path: string;
  bytes: number;
  /** SHA-256 of purpose and content, for Idempotency-Key checks. */
  digest: string;
  /** Deletes the spooled copy. */
  discard(): Promise<void>;
}

export interface UploadLimits {
  maxBytes: number;
  /** Where uploads are spooled (UPLOAD_TMP_DIR); needs room for MAX_FILE_BYTES per upload in flight. */
  tmpDir: string;
}

/**
 * Reads a `multipart/form-data` upload (fields `purpose` and `file`, as the
 * openai SDK sends them) straight to a temporary file: memory stays flat
 * whatever the size, and the bytes are hashed on the way. A caller that goes
 * away halfway leaves nothing behind: the file is closed and removed.
 */
export async function spoolUpload(req: Request, limits: UploadLimits): Promise<SpooledUpload> {
  if (!req.is("multipart/form-data")) {
    throw new ServiceError("invalid_payload", "Upload files as multipart/form-data with the fields 'purpose' and 'file'.");
  }
  const dir = await mkdtemp(join(limits.tmpDir, UPLOAD_DIR_PREFIX));
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    return await new Promise<SpooledUpload>((resolve, reject) => {
      // Field names are the caller's: a Map, so `__proto__` or `constructor` is just a name.
      const fields = new Map<string, string>();
      let file: Promise<{ filename: string; bytes: number; hash: ReturnType<typeof createHash> }> | undefined;
      let fileStream: Readable | undefined;
      // A refusal found mid-body is given once the body is read and the file
      // closed: refused at once, the folder would be removed while busboy still
      // hands over the file part, whose spooling would then fail with nobody
      // listening (an unhandled rejection ends the process).
      let failure: ServiceError | undefined;
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: limits.maxBytes, fieldSize: 1024 } });
      } catch {
        return reject(new ServiceError("invalid_payload", "The multipart body is malformed."));
      }
      parser.on("field", (name, value) => fields.set(name, value));
      // Busboy stops reading fields at the limit: refuse, rather than lose `purpose` among them.
      parser.on("fieldsLimit", () => {
        failure ??= new ServiceError("invalid_payload", "The upload has too many fields: send 'purpose' and 'file' only.");
      });
      // Busboy skips files past the first: refuse, rather than keep one of them silently.
      parser.on("filesLimit", () => {
        failure ??= new ServiceError("invalid_payload", "The upload has more than one file: send one 'file'.", { param: "file" });
      });
      parser.on("file", (name, stream, info) => {
        if (name !== "file" || failure) return discardFileStream(stream);
        fileStream = stream;
        file = spoolFile(stream, join(dir, "upload")).then(({ bytes, hash, truncated }) => {
          if (truncated) throw new ServiceError("invalid_payload", `The file is larger than the limit of ${limits.maxBytes} bytes.`, { param: "file" });
          return { filename: info.filename || "upload.jsonl", bytes, hash };
        });
        // Handled here too: when the body is cut off or refused, nobody awaits the file any more.
        file.catch(() => {});
      });
      parser.on("error", () => reject(new ServiceError("invalid_payload", "The multipart body is malformed.")));
      parser.on("close", () => {
        if (failure) {
          const refused = failure;
          void Promise.allSettled([file]).then(() => reject(refused));
          return;
        }
        if (!file) return reject(new ServiceError("invalid_payload", "The upload has no 'file' field.", { param: "file" }));
        file.then(({ filename, bytes, hash }) => {
          const purpose = fields.get("purpose") ?? "";
          hash.update(`\n${purpose}`);
          resolve({ purpose, filename, path: join(dir, "upload"), bytes, digest: hash.digest("hex"), discard });
        }, reject);
      });
      // `pipeline`, not `pipe`: a request that ends early (the caller went away,
      // the body deadline passed) destroys the parser instead of leaving it
      // waiting forever with the temp file open.
      pipeline(req, parser).catch(() => {
        fileStream?.destroy();
        const interrupted = new ServiceError("invalid_payload", "The upload ended before the whole body arrived.");
        // Reject once the file is closed, so the discard below removes a file nothing holds.
        void Promise.allSettled([file]).then(() => reject(interrupted));
      });
    });
  } catch (error) {
    await discard();
    throw error;
  }
}

/**
 * Makes sure uploads can be spooled before the first one arrives: a missing
 * directory is created, one that cannot be written stops start-up with a
 * clear message instead of failing every upload.
 */
export async function prepareUploadDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new Error(`UPLOAD_TMP_DIR ${dir} cannot be used for uploads: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Removes upload directories a crashed process left behind. Only those older
 * than `olderThanMs`: replicas may share the directory, and an upload in
 * flight elsewhere is younger than the body deadline that bounds it.
 */
export async function sweepStaleUploads(tmpDir: string, olderThanMs: number, nowMs = Date.now()): Promise<string[]> {
  const swept: string[] = [];
  const names = await readdir(tmpDir).catch(() => []);
  for (const name of names) {
    if (!name.startsWith(UPLOAD_DIR_PREFIX)) continue;
    const path = join(tmpDir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info || nowMs - info.mtimeMs < olderThanMs) continue;
    await rm(path, { recursive: true, force: true });
    swept.push(name);
  }
  return swept;
}
