import { ServiceError } from "@imagegen/shared";
import sharp from "sharp";
import type { SpooledFile } from "./receive-upload.js";

/**
 * Inputs are checked by decoding them, not by trusting names or headers:
 * a file that does not decode as PNG, JPEG or WebP is the caller's mistake
 * (`param: "image"` / `"mask"`), found here rather than at a GPU server.
 * sharp's pixel limit (268 megapixels) keeps a decompression bomb out.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

export interface CheckedInput {
  path: string;
  contentType: string;
  width: number;
  height: number;
}

async function decode(file: SpooledFile, param: "image" | "mask", position: string): Promise<CheckedInput & { hasAlpha: boolean }> {
  let format: string | undefined;
  let info: { width: number; height: number; hasAlpha: boolean };
  try {
    const image = sharp(file.path, { failOn: "error", sequentialRead: true });
    const meta = await image.metadata();
    // A full decode: a truncated or corrupt file fails here, not at the GPU.
    await image.stats();
    format = meta.format;
    info = { width: meta.width ?? 0, height: meta.height ?? 0, hasAlpha: meta.hasAlpha };
  } catch {
    throw new ServiceError("invalid_payload", `${position} is not a readable image. Send PNG, JPEG or WebP.`, { param });
  }
  const contentType = format === undefined ? undefined : CONTENT_TYPES[format];
  if (contentType === undefined) throw new ServiceError("invalid_payload", `${position} is ${format ?? "of an unknown format"}; send PNG, JPEG or WebP.`, { param });
  return { path: file.path, contentType, ...info };
}

export async function validateEditInputs(images: readonly SpooledFile[], mask: SpooledFile | undefined): Promise<{ images: CheckedInput[]; mask: CheckedInput | undefined }> {
  const checked = await Promise.all(images.map((file, index) => decode(file, "image", images.length === 1 ? "image" : `image[${index}]`)));
  if (mask === undefined) return { images: checked, mask: undefined };
  const decodedMask = await decode(mask, "mask", "mask");
  const first = checked[0]!;
  if (decodedMask.contentType !== "image/png") throw new ServiceError("invalid_payload", "mask must be a PNG.", { param: "mask" });
  if (decodedMask.width !== first.width || decodedMask.height !== first.height) {
    throw new ServiceError("invalid_payload", `mask is ${decodedMask.width}x${decodedMask.height} but the image is ${first.width}x${first.height}; they must match.`, {
      param: "mask",
    });
  }
  if (!decodedMask.hasAlpha) throw new ServiceError("invalid_payload", "mask needs an alpha channel: its fully transparent pixels mark the area to edit.", { param: "mask" });
  return { images: checked, mask: decodedMask };
}
