import { loadSharp } from "./sharp.js";

/**
 * OpenAI masks mark the area to edit with transparent pixels; A1111's
 * img2img and Cog's inpainting models take white for "repaint", black for
 * "keep". Converted here once, so each adapter only says which it needs.
 */
export async function whiteMaskFromTransparent(mask: Buffer): Promise<Buffer> {
  const sharp = await loadSharp();
  // Alpha 0 (edit) → 255 (white); opaque → black.
  return sharp(mask).ensureAlpha().extractChannel(3).negate({ alpha: false }).png().toBuffer();
}

export function dataUri(bytes: Buffer, contentType: string): string {
  return `data:${contentType};base64,${bytes.toString("base64")}`;
}
