import { createByteLruCache, type EncodedImage } from "./image-cache.js";
import { encodePng } from "./png.js";
import { renderImage } from "./render.js";

export interface ImageSource {
  /** The encoded PNG for one image seed and size; rendered and encoded once, then served from the LRU. */
  get(seed: number, width: number, height: number): EncodedImage;
}

export interface ImageSourceDeps {
  noise: number;
  compressionLevel: number;
  cacheMaxBytes: number;
}

export function createImageSource({ noise, compressionLevel, cacheMaxBytes }: ImageSourceDeps): ImageSource {
  const cache = createByteLruCache<EncodedImage>(cacheMaxBytes);
  return {
    get(seed, width, height) {
      const key = `${seed}:${width}x${height}:${noise}:${compressionLevel}`;
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      const png = encodePng(width, height, renderImage({ width, height, seed, noise }), compressionLevel);
      const image = { bytes: png, contentType: "image/png", b64: png.toString("base64") };
      cache.set(key, image, png.length + image.b64.length);
      return image;
    },
  };
}

/** FNV-1a over UTF-16 code units: a stable 32-bit seed for prompts without one. */
export function hashPrompt(prompt: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) {
    hash ^= prompt.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Folds any safe integer (negative or above 2^32 included) into uint32. */
export function toUint32(value: number): number {
  return Number(BigInt.asUintN(32, BigInt(value)));
}

/**
 * Seed of image `index` in a request: the request's integer seed, else a hash
 * of the prompt, plus the index so the n images differ; the simulator seed is
 * mixed in (a no-op at its default 0) so different runs can get different noise.
 */
export function imageSeedFor(prompt: string, requestSeed: unknown, index: number, simulatorSeed: number): number {
  const base =
    typeof requestSeed === "number" && Number.isSafeInteger(requestSeed) ? toUint32(requestSeed) : hashPrompt(prompt);
  return ((base + index) ^ Math.imul(toUint32(simulatorSeed), 0x9e3779b1)) >>> 0;
}
