import { createSeededRandom } from "./faults.js";

export interface RenderParams {
  width: number;
  height: number;
  seed: number;
  noise: number;
}

/**
 * Raw RGB (width*height*3 bytes) of a vertical two-colour gradient whose colours
 * come from the seed, plus per-channel uniform noise of amplitude
 * `noise`. The gradient makes images tell apart at a glance; the noise is what
 * defeats deflate, so it sets the PNG size.
 */
export function renderImage({ width, height, seed, noise }: RenderParams): Buffer {
  const random = createSeededRandom(seed);
  const from = [random() * 255, random() * 255, random() * 255] as const;
  const to = [random() * 255, random() * 255, random() * 255] as const;
  // Top-to-bottom only: a base colour that is constant along each row adds
  // almost nothing to the deflated size, so PNG size follows `noise` and
  // barely depends on the seed (a diagonal gradient made it vary by +-25%).
  const span = Math.max(height - 1, 1);

  const rgb = Buffer.allocUnsafe(width * height * 3);
  // Clamped view: writes round and saturate to 0..255 for free.
  const pixels = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rgb.length);
  const [r0, g0, b0] = from;
  const dr = to[0] - r0;
  const dg = to[1] - g0;
  const db = to[2] - b0;
  const noiseLevels = noise + 1;
  const noiseCentre = noise >> 1;
  // xorshift32 inline: one 32-bit draw gives the noise for all three channels of a pixel.
  let state = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0 || 0x9e3779b9;

  let offset = 0;
  for (let y = 0; y < height; y++) {
    const t = y / span;
    const rowR = r0 + dr * t;
    const rowG = g0 + dg * t;
    const rowB = b0 + db * t;
    for (let x = 0; x < width; x++) {
      let r = rowR;
      let g = rowG;
      let b = rowB;
      if (noise > 0) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        r += (((state & 0xff) * noiseLevels) >>> 8) - noiseCentre;
        g += ((((state >>> 8) & 0xff) * noiseLevels) >>> 8) - noiseCentre;
        b += ((((state >>> 16) & 0xff) * noiseLevels) >>> 8) - noiseCentre;
      }
      pixels[offset++] = r;
      pixels[offset++] = g;
      pixels[offset++] = b;
    }
  }
  return rgb;
}
