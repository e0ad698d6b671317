import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { imageContentType } from "../upstreams/upstream.js";
import { imageSize, transcodeImage } from "./transcode.js";

/** A noisy 64x48 RGBA picture whose left half is fully transparent. */
async function halfTransparentPng(): Promise<Buffer> {
  const width = 64;
  const height = 48;
  const rgba = Buffer.alloc(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    const x = pixel % width;
    rgba.writeUInt32BE((Math.imul(pixel, 2654435761) & 0xffffff00) >>> 0, pixel * 4);
    rgba[pixel * 4 + 3] = x < width / 2 ? 0 : 255;
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

describe("transcodeImage", () => {
  it("hands PNG on unchanged when PNG is asked for (no re-encoding)", async () => {
    const png = await halfTransparentPng();
    const out = await transcodeImage({ bytes: png, contentType: "image/png" }, { outputFormat: "png" });
    expect(out.bytes).toBe(png);
  });

  it("turns an upstream's JPEG into the default PNG", async () => {
    const jpeg = await sharp(await halfTransparentPng()).flatten().jpeg().toBuffer();
    const out = await transcodeImage({ bytes: jpeg, contentType: "image/jpeg" }, { outputFormat: "png" });
    expect(out.contentType).toBe("image/png");
    expect(imageContentType(out.bytes)).toBe("image/png");
    expect(await imageSize(out.bytes)).toBe("64x48");
  });

  it.each([
    ["jpeg", "image/jpeg"],
    ["webp", "image/webp"],
  ] as const)("encodes %s with the bytes and content type to match", async (format, contentType) => {
    const out = await transcodeImage({ bytes: await halfTransparentPng(), contentType: "image/png" }, { outputFormat: format });
    expect(out.contentType).toBe(contentType);
    expect(imageContentType(out.bytes)).toBe(contentType);
    expect(await imageSize(out.bytes)).toBe("64x48");
  });

  it("makes smaller files at lower output_compression", async () => {
    const png = await halfTransparentPng();
    const best = await transcodeImage({ bytes: png, contentType: "image/png" }, { outputFormat: "jpeg", outputCompression: 100 });
    const small = await transcodeImage({ bytes: png, contentType: "image/png" }, { outputFormat: "jpeg", outputCompression: 10 });
    expect(small.bytes.length).toBeLessThan(best.bytes.length);
  });

  it("keeps transparency in WebP and flattens it onto white for JPEG and background 'opaque'", async () => {
    const png = await halfTransparentPng();
    const webp = await transcodeImage({ bytes: png, contentType: "image/png" }, { outputFormat: "webp", background: "transparent" });
    expect((await sharp(webp.bytes).stats()).isOpaque).toBe(false);
    for (const encoding of [{ outputFormat: "jpeg" as const }, { outputFormat: "png" as const, background: "opaque" as const }]) {
      const out = await transcodeImage({ bytes: png, contentType: "image/png" }, encoding);
      const { data, info } = await sharp(out.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      // The transparent left edge became white, not the hidden colour under it.
      expect([data[0], data[1], data[2]].every((channel) => channel !== undefined && channel > 240)).toBe(true);
      expect((await sharp(out.bytes).stats()).isOpaque).toBe(true);
    }
  });

  it("refuses bytes that do not decode", async () => {
    const truncated = (await halfTransparentPng()).subarray(0, 60);
    await expect(transcodeImage({ bytes: truncated, contentType: "image/png" }, { outputFormat: "webp" })).rejects.toThrow();
  });
});
