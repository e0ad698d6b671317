import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { encodePng } from "./png.js";
import { renderImage } from "./render.js";

describe("encodePng", () => {
  it("round-trips pixels exactly through a standard decoder", () => {
    const width = 7;
    const height = 5;
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;

    const decoded = PNG.sync.read(encodePng(width, height, rgb));

    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    for (let pixel = 0; pixel < width * height; pixel++) {
      expect([...decoded.data.subarray(pixel * 4, pixel * 4 + 3)]).toEqual([...rgb.subarray(pixel * 3, pixel * 3 + 3)]);
      expect(decoded.data[pixel * 4 + 3]).toBe(255);
    }
  });

  it("decodes at every compression level", () => {
    const rgb = renderImage({ width: 16, height: 9, seed: 3, noise: 40 });
    for (const level of [0, 1, 6, 9]) {
      const decoded = PNG.sync.read(encodePng(16, 9, rgb, level));
      expect([decoded.width, decoded.height]).toEqual([16, 9]);
    }
  });

  it("rejects a pixel buffer that does not match the size", () => {
    expect(() => encodePng(4, 4, Buffer.alloc(10))).toThrow(RangeError);
    expect(() => encodePng(0, 4, Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe("renderImage", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const params = { width: 32, height: 32, noise: 16 };
    const a = renderImage({ ...params, seed: 1 });
    expect(renderImage({ ...params, seed: 1 }).equals(a)).toBe(true);
    expect(renderImage({ ...params, seed: 2 }).equals(a)).toBe(false);
    expect(a.length).toBe(32 * 32 * 3);
  });

  it("makes bigger PNGs with more noise", () => {
    const size = (noise: number) => encodePng(128, 128, renderImage({ width: 128, height: 128, seed: 9, noise })).length;
    expect(size(0)).toBeLessThan(size(8));
    expect(size(8)).toBeLessThan(size(64));
  });
});
