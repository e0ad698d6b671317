import { PNG } from "pngjs";

/** Fully decodes a PNG (an independent decoder, not ours) and returns its size. */
export function decodePng(bytes: Buffer): { width: number; height: number; data: Buffer } {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

export function sizeOf(bytes: Buffer): string {
  const { width, height } = decodePng(bytes);
  return `${width}x${height}`;
}
