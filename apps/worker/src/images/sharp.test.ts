import { deflateSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";

// Counts imports of sharp, then lets it load for real.
const sharpImports = vi.hoisted(() => ({ count: 0 }));
vi.mock("sharp", async (importOriginal) => {
  sharpImports.count++;
  return importOriginal();
});

const { finishImages } = await import("./finish-images.js");

/** A real 2x1 RGB PNG, written by hand so that making it needs no sharp. */
function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const pixels = Buffer.from([0, 255, 0, 0, 0, 0, 255]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(pixels)), chunk("IEND", Buffer.alloc(0))]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("sharp loads on first use", () => {
  // In this order: the first test must run before anything loads sharp.
  it("finishes PNG images, the default, without loading it", async () => {
    const png = tinyPng();
    const { images, response } = await finishImages([{ bytes: png, contentType: "image/png" }], undefined, "1024x1024");
    expect(images[0]!.bytes).toBe(png);
    expect(response).toEqual({ size: "2x1", output_format: "png" });
    expect(sharpImports.count).toBe(0);
  });

  it("loads it for the first image that has to be re-encoded, once", async () => {
    const png = tinyPng();
    for (let round = 0; round < 2; round++) {
      const { images } = await finishImages([{ bytes: png, contentType: "image/png" }], { outputFormat: "webp" }, "1024x1024");
      expect(images[0]!.contentType).toBe("image/webp");
      expect(images[0]!.bytes.toString("latin1", 8, 12)).toBe("WEBP");
    }
    expect(sharpImports.count).toBe(1);
  });

  it("fails an image as the deployment's fault, not the model's, when sharp cannot load", async () => {
    vi.resetModules();
    vi.doMock("sharp", () => {
      throw new Error("Could not load the \"sharp\" module using the linux-x64 runtime");
    });
    const fresh = await import("./finish-images.js");
    const { ImageLibraryUnavailableError } = await import("./sharp.js");
    const failure = fresh.finishImages([{ bytes: tinyPng(), contentType: "image/png" }], { outputFormat: "jpeg" }, "1024x1024");
    await expect(failure).rejects.toBeInstanceOf(ImageLibraryUnavailableError);
    await expect(failure).rejects.not.toMatchObject({ code: "upstream_invalid_response" });
    vi.doUnmock("sharp");
  });
});
