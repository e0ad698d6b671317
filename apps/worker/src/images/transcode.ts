import type { ImageOptions, OutputFormat } from "@imagegen/shared";
import { loadSharp } from "./sharp.js";

/**
 * Turns what an upstream produced into what the caller asked for
 * (output_format, output_compression, background). Upstreams answer PNG,
 * JPEG or WebP as they please; callers get PNG unless they chose otherwise,
 * so the README's promise does not depend on the GPU server behind a model.
 */
export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

/** OpenAI's default output_compression: 100 (best quality). */
const DEFAULT_COMPRESSION = 100;

export interface EncodedImage {
  bytes: Buffer;
  contentType: string;
}

export type OutputEncoding = Pick<ImageOptions, "outputFormat" | "outputCompression" | "background">;

/** The image needs no re-encoding: already in the asked format, with nothing else to change. */
function canPassThrough(image: EncodedImage, encoding: OutputEncoding): boolean {
  return image.contentType === CONTENT_TYPES[encoding.outputFormat] && encoding.outputCompression === undefined && encoding.background !== "opaque";
}

/**
 * Re-encodes one image. Decoding runs on libuv's thread pool (sharp), so the
 * event loop keeps serving other jobs meanwhile. Throws when the bytes do
 * not decode, which the caller treats as the upstream's garbage, or an
 * ImageLibraryUnavailableError, which is ours.
 */
export async function transcodeImage(image: EncodedImage, encoding: OutputEncoding): Promise<EncodedImage> {
  if (canPassThrough(image, encoding)) return image;
  const sharp = await loadSharp();
  let pipeline = sharp(image.bytes, { failOn: "error" });
  // JPEG cannot hold alpha, and "opaque" asks for none: flatten onto white
  // rather than let the encoder drop alpha and show whatever colour the
  // transparent pixels happened to have.
  if (encoding.outputFormat === "jpeg" || encoding.background === "opaque") pipeline = pipeline.flatten({ background: "#ffffff" });
  const quality = encoding.outputCompression ?? DEFAULT_COMPRESSION;
  switch (encoding.outputFormat) {
    case "png":
      pipeline = pipeline.png();
      break;
    case "jpeg":
      pipeline = pipeline.jpeg({ quality, mozjpeg: false });
      break;
    case "webp":
      pipeline = pipeline.webp({ quality });
      break;
  }
  return { bytes: await pipeline.toBuffer(), contentType: CONTENT_TYPES[encoding.outputFormat] };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height as OpenAI writes them ("1024x1024"), read from the
 * encoded header. A PNG's are read straight from its IHDR chunk: every
 * default (PNG) reply needs them, and a sharp decoder per image on the hot
 * path cost a measurable share of the worker's throughput.
 */
export async function imageSize(bytes: Buffer): Promise<string | undefined> {
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.toString("latin1", 12, 16) === "IHDR") {
    return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
  }
  const sharp = await loadSharp();
  const { width, height } = await sharp(bytes).metadata();
  return width && height ? `${width}x${height}` : undefined;
}
