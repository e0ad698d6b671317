import type SharpModule from "sharp";

type Sharp = typeof SharpModule;

/** sharp could not be loaded: this deployment's install is broken, not the model's image. */
export class ImageLibraryUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the image library (sharp) could not be loaded", { cause });
  }
}

let loading: Promise<Sharp> | undefined;

/**
 * sharp (libvips), loaded on first use instead of at start: its libraries
 * cost a worker ~9 MB of resident memory (127 against 136 MB idle,
 * measured on a benchmark stack), and a worker that only
 * serves PNG (the default: no output_format, no edits with masks) never
 * needs them. A load that fails is kept, so every image that needs sharp
 * fails the same way, as an ImageLibraryUnavailableError.
 */
export function loadSharp(): Promise<Sharp> {
  loading ??= import("sharp").then(
    (module) => module.default,
    (error: unknown) => {
      throw new ImageLibraryUnavailableError(error);
    },
  );
  return loading;
}
