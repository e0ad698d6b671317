import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { ServiceError } from "@imagegen/shared";
import busboy from "busboy";
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
      // Field names are the caller's: a Map, so `__proto__` or `constructor` is just a name.
      const fields = new Map<string, string>();
      let file: Promise<{ filename: string; bytes: number; hash: ReturnType<typeof createHash> }> | undefined;
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: maxBytes, fieldSize: 1024 } });
      } catch {
        return reject(new ServiceError("invalid_payload", "The multipart body is malformed."));
      }
      parser.on("field", (name, value) => fields.set(name, value));
      parser.on("file", (name, stream, info) => {
        if (name !== "file") {
          stream.resume();
          return;
        }
        const hash = createHash("sha256");
        let bytes = 0;
        let truncated = false;
        stream.on("limit", () => (truncated = true));
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            hash.update(chunk);
            callback(null, chunk);
          },
        });
        file = pipeline(stream, counter, createWriteStream(join(dir, "upload"))).then(() => {
          if (truncated) throw new ServiceError("invalid_payload", `The file is larger than the limit of ${maxBytes} bytes.`, { param: "file" });
          return { filename: info.filename || "upload.jsonl", bytes, hash };
        });
      });
      parser.on("error", () => reject(new ServiceError("invalid_payload", "The multipart body is malformed.")));
      parser.on("close", () => {
        if (!file) return reject(new ServiceError("invalid_payload", "The upload has no 'file' field.", { param: "file" }));
        file.then(({ filename, bytes, hash }) => {
          const purpose = fields.get("purpose") ?? "";
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
