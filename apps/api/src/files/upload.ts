import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceError } from "@imagegen/shared";
import busboy from "busboy";
import { spoolFile } from "./spool-file.js";
import type { Request } from "express";

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

/**
 * Reads a `multipart/form-data` upload (fields `purpose` and `file`, as the
 * openai SDK sends them) straight to a temporary file: memory stays flat
 * whatever the size, and the bytes are hashed on the way.
 */
export async function spoolUpload(req: Request, maxBytes: number): Promise<SpooledUpload> {
  if (!req.is("multipart/form-data")) {
    throw new ServiceError("invalid_payload", "Upload files as multipart/form-data with the fields 'purpose' and 'file'.");
  }
  const dir = await mkdtemp(join(tmpdir(), "upload-"));
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    return await new Promise<SpooledUpload>((resolve, reject) => {
      const fields: Record<string, string> = {};
      let file: Promise<{ filename: string; bytes: number; hash: ReturnType<typeof createHash> }> | undefined;
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: maxBytes, fieldSize: 1024 } });
      } catch {
        return reject(new ServiceError("invalid_payload", "The multipart body is malformed."));
      }
      parser.on("field", (name, value) => (fields[name] = value));
      parser.on("file", (name, stream, info) => {
        if (name !== "file") {
          stream.resume();
          return;
        }
        file = spoolFile(stream, join(dir, "upload")).then(({ bytes, hash, truncated }) => {
          if (truncated) throw new ServiceError("invalid_payload", `The file is larger than the limit of ${maxBytes} bytes.`, { param: "file" });
          return { filename: info.filename || "upload.jsonl", bytes, hash };
        });
      });
      parser.on("error", () => reject(new ServiceError("invalid_payload", "The multipart body is malformed.")));
      parser.on("close", () => {
        if (!file) return reject(new ServiceError("invalid_payload", "The upload has no 'file' field.", { param: "file" }));
        file.then(({ filename, bytes, hash }) => {
          const purpose = fields.purpose ?? "";
          hash.update(`\n${purpose}`);
          resolve({ purpose, filename, path: join(dir, "upload"), bytes, digest: hash.digest("hex"), discard });
        }, reject);
      });
      req.pipe(parser);
    });
  } catch (error) {
    await discard();
    throw error;
  }
}
