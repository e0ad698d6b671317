import { PNG } from "pngjs";
import { decodePng } from "./png.js";

/** Test pictures built with an independent PNG encoder, and pixel reads from an independent decoder. */
export function pngOf(width: number, height: number, colourAt: (x: number, y: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 4;
      const [r, g, b, a] = colourAt(x, y);
      png.data[offset] = r;
      png.data[offset + 1] = g;
      png.data[offset + 2] = b;
      png.data[offset + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

/** Left half red, right half blue. */
export const redBlue = (size: number) => pngOf(size, size, (x) => (x < size / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
/** Transparent (edit here) on the top half. */
export const topHalfMask = (size: number) => pngOf(size, size, (_x, y) => [0, 0, 0, y < size / 2 ? 0 : 255]);

export function pixelAt(pngBytes: Buffer, x: number, y: number): [number, number, number] {
  const { width, data } = decodePng(pngBytes);
  const offset = (y * width + x) * 4;
  return [data[offset]!, data[offset + 1]!, data[offset + 2]!];
}
