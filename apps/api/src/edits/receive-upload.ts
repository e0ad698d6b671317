import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { ServiceError } from "@imagegen/shared";
import busboy from "busboy";
import { discardFileStream, spoolFile } from "../files/spool-file.js";
import { UPLOAD_DIR_PREFIX } from "../files/upload.js";
import type { Request } from "express";

/** OpenAI's limit on `image[]`. */
export const MAX_EDIT_IMAGES = 16;
const MAX_FIELDS = 64;
/** Prompts of GPT image models may be 32,000 characters; leave room for UTF-8. */
const MAX_FIELD_BYTES = 128 * 1024;

export interface SpooledFile {
  /** The form field it came in (`image`, `image[]` or `mask`). */
  field: string;
  path: string;
  bytes: number;
}

export interface EditUpload {
  /** Text fields, own properties only (a field named __proto__ stays a field). */
  fields: Record<string, string>;
  images: SpooledFile[];
  mask: SpooledFile | undefined;
  /** SHA-256 over the fields and every file, for Idempotency-Key checks. */
  digest: string;
  /** Deletes the spooled files. */
  discard(): Promise<void>;
}

function invalid(message: string, param: string | null): ServiceError {
  return new ServiceError("invalid_payload", message, { param });
}

/**
 * Reads OpenAI's multipart edit request (`image` or `image[]`, `mask`, text
 * fields) with every file streamed to a temporary folder: memory stays flat
 * whatever the sizes, and each file is hashed on the way. A file over
 * `maxImageBytes`, too many images or an unknown file field is refused
 * naming the field; nothing is kept on failure.
 */
export async function receiveEditUpload(req: Request, limits: { maxImageBytes: number; tmpDir: string }): Promise<EditUpload> {
  const { maxImageBytes } = limits;
  if (!req.is("multipart/form-data")) {
    throw invalid("Send image edits as multipart/form-data with the fields 'image' (or 'image[]'), 'prompt' and 'model'.", null);
  }
  // Named like every upload, so the start-up sweep removes what a crash left behind.
  const dir = await mkdtemp(join(limits.tmpDir, UPLOAD_DIR_PREFIX));
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    return await new Promise<EditUpload>((resolve, reject) => {
      const fields = new Map<string, string>();
      const files: Promise<SpooledFile & { digest: string }>[] = [];
      let failure: ServiceError | undefined;
      const fail = (error: ServiceError) => {
        failure ??= error;
      };
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: req.headers, limits: { files: MAX_EDIT_IMAGES + 1, fields: MAX_FIELDS, fileSize: maxImageBytes, fieldSize: MAX_FIELD_BYTES } });
      } catch {
        return reject(invalid("The multipart body is malformed.", null));
      }
      parser.on("field", (name, value, info) => {
        if (info.valueTruncated) fail(invalid(`${name} is longer than ${MAX_FIELD_BYTES} bytes.`, name));
        fields.set(name, value);
      });
      parser.on("file", (name, stream, info) => {
        if (name !== "image" && name !== "image[]" && name !== "mask") {
          fail(invalid(`Unexpected file field '${name}': send 'image', 'image[]' or 'mask'.`, name));
          return discardFileStream(stream);
        }
        const param = name === "mask" ? "mask" : "image";
        const path = join(dir, `file-${files.length}`);
        const spooled = spoolFile(stream, path, createHash("sha256").update(`${name}\n`)).then(({ bytes, hash, truncated }) => {
          if (truncated) throw invalid(`${info.filename || param} is larger than the limit of ${maxImageBytes} bytes.`, param);
          return { field: name, path, bytes, digest: hash.digest("hex") };
        });
        // Handled here too: when the body is cut off, nobody awaits the files any more.
        spooled.catch(() => {});
        files.push(spooled);
      });
      parser.on("filesLimit", () => fail(invalid(`At most ${MAX_EDIT_IMAGES} images and one mask.`, "image")));
      parser.on("fieldsLimit", () => fail(invalid(`At most ${MAX_FIELDS} fields.`, null)));
      parser.on("error", () => reject(invalid("The multipart body is malformed.", null)));
      parser.on("close", () => {
        Promise.all(files).then((spooled) => {
          if (failure) throw failure;
          const masks = spooled.filter((file) => file.field === "mask");
          if (masks.length > 1) throw invalid("Send at most one mask.", "mask");
          const images = spooled.filter((file) => file.field !== "mask");
          if (images.length === 0) throw invalid("image is required: send one file as 'image' or several as 'image[]'.", "image");
          if (images.some((file) => file.bytes === 0)) throw invalid("image is empty.", "image");
          const digest = createHash("sha256")
            .update(JSON.stringify([...fields].sort(([a], [b]) => a.localeCompare(b))))
            .update(spooled.map((file) => file.digest).join(","))
            .digest("hex");
          resolve({ fields: Object.fromEntries(fields), images, mask: masks[0], digest, discard });
        })
          // Also what the checks above throw: a refusal must reach the caller, not escape as an unhandled rejection.
          .catch(reject);
      });
      // `pipeline`, not `pipe`: a body that ends early (the caller went away, the
      // body deadline passed) destroys the parser instead of leaving it waiting.
      pipeline(req, parser).catch(() => reject(invalid("The upload ended before the whole body arrived.", null)));
    });
  } catch (error) {
    await discard();
    throw error;
  }
}
