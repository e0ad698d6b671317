import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile, access, constants } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { ImageNotFoundError, type ImageStore } from "./image-store.js";
import { isImageObjectKey } from "./object-key.js";
import { signImagePath } from "./url-signing.js";

export interface FsImageStoreOptions {
  rootDir: string;
  /** Public origin of the API that serves /v1/images/files, e.g. http://localhost:8080 */
  publicBaseUrl?: string;
  urlSigningSecret?: string;
  now?: () => number;
}

/** The embedded default: images on local disk, links served by the API. */
export function createFsImageStore(options: FsImageStoreOptions): ImageStore {
  const root = resolve(options.rootDir);
  const now = options.now ?? Date.now;
  const baseUrl = options.publicBaseUrl?.replace(/\/+$/, "");

  function pathFor(key: string): string {
    // Keys are validated on every access, never trusted to stay inside root.
    if (!isImageObjectKey(key)) throw new ImageNotFoundError(key);
    const path = join(root, key);
    if (!path.startsWith(root + sep)) throw new ImageNotFoundError(key);
    return path;
  }

  return {
    driver: "fs",
    async put(key, body) {
      const path = pathFor(key);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename, so a reader never sees half an image.
      const temporary = `${path}.${randomUUID()}.tmp`;
      await writeFile(temporary, body);
      await rename(temporary, path);
    },
    async get(key) {
      try {
        return await readFile(pathFor(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ImageNotFoundError(key);
        throw error;
      }
    },
    async signedUrl(key, ttlSeconds) {
      pathFor(key);
      if (baseUrl === undefined || options.urlSigningSecret === undefined) {
        throw new Error("this process was not given PUBLIC_BASE_URL and URL_SIGNING_SECRET, so it cannot sign links");
      }
      const expiresAtSeconds = Math.floor(now() / 1000) + ttlSeconds;
      return baseUrl + signImagePath(options.urlSigningSecret, key, expiresAtSeconds);
    },
    async ping() {
      await mkdir(root, { recursive: true });
      await access(root, constants.W_OK);
    },
  };
}
