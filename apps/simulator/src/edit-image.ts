import sharp from "sharp";

/**
 * The simulated GPU's edit: the input images, scaled to the output size and
 * averaged, with the colours inverted where the mask is transparent (or
 * everywhere without a mask). An edit is then plainly told from a fresh
 * generation, and a test can check each pixel against its input.
 */
export interface EditInput {
  images: Buffer[];
  /** An image marking the area to edit. */
  mask: Buffer | undefined;
  /** How the mask marks it: OpenAI's transparent pixels, or A1111's white ones. */
  maskMode?: "transparent" | "white";
}

export const IMAGE_FORMATS = ["png", "jpeg", "webp"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

const CONTENT_TYPES: Readonly<Record<ImageFormat, string>> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

export function contentTypeOf(format: ImageFormat): string {
  return CONTENT_TYPES[format];
}

/** Thrown when an input is not an image the simulated GPU can read; protocols answer it as the caller's mistake. */
export class InvalidInputImageError extends Error {
  override name = "InvalidInputImageError";
  constructor(readonly field: "image" | "mask", message: string) {
    super(message);
  }
}

async function rgbOf(bytes: Buffer, width: number, height: number, field: "image" | "mask"): Promise<Buffer> {
  try {
    return await sharp(bytes, { failOn: "error" }).removeAlpha().resize(width, height, { fit: "fill" }).raw().toBuffer();
  } catch (error) {
    throw new InvalidInputImageError(field, `${field} is not a readable image: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** One byte per pixel, below 128 where the edit goes. */
async function editAreaOf(mask: Buffer, mode: "transparent" | "white", width: number, height: number): Promise<Buffer> {
  try {
    const pipeline = sharp(mask, { failOn: "error" }).resize(width, height, { fit: "fill" });
    // OpenAI: alpha 0 = edit here (a mask without alpha edits nothing). A1111: white = edit here.
    if (mode === "white") return await pipeline.greyscale().negate({ alpha: false }).extractChannel(0).raw().toBuffer();
    return await pipeline.ensureAlpha().extractChannel(3).raw().toBuffer();
  } catch (error) {
    throw new InvalidInputImageError("mask", `mask is not a readable image: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** One edited image as PNG. */
export async function renderEdit(input: EditInput, width: number, height: number): Promise<Buffer> {
  if (input.images.length === 0) throw new InvalidInputImageError("image", "at least one image is required");
  const layers = await Promise.all(input.images.map((image) => rgbOf(image, width, height, "image")));
  const alpha = input.mask === undefined ? undefined : await editAreaOf(input.mask, input.maskMode ?? "transparent", width, height);
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let offset = 0; offset < out.length; offset++) {
    let sum = 0;
    for (const layer of layers) sum += layer[offset]!;
    const average = Math.round(sum / layers.length);
    const editable = alpha === undefined || alpha[Math.floor(offset / 3)]! < 128;
    out[offset] = editable ? 255 - average : average;
  }
  return sharp(out, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** Re-encodes a PNG in the format the simulated server answers in (SIM_IMAGE_FORMAT). */
export async function encodeAs(png: Buffer, format: ImageFormat): Promise<Buffer> {
  if (format === "png") return png;
  return format === "jpeg" ? sharp(png).jpeg({ quality: 90 }).toBuffer() : sharp(png).webp({ quality: 90 }).toBuffer();
}
