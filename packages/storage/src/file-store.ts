import { createReadStream } from "node:fs";
import { copyFile, mkdir, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";

/**
 * Where Batch API files live (uploaded inputs, produced outputs). Unlike
 * images they can be large, so they move as streams and local files, never
 * as one buffer.
 */
export interface FileStore {
  /** Stores a file from local disk (an upload spooled to disk, or an output we wrote). */
  putFile(key: string, localPath: string, contentType: string): Promise<void>;
  getStream(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
}

const FILE_KEY = /^files\/[A-Za-z0-9_-]{1,128}\/[A-Za-z0-9_-]{1,128}\.jsonl$/;

/** The one place file object keys are made. */
export function batchFileKey(workspaceId: string, fileId: string): string {
  const key = `files/${workspaceId}/${fileId}.jsonl`;
  if (!FILE_KEY.test(key)) throw new Error("workspace and file ids must be URL-safe identifiers");
  return key;
}

export function createFsFileStore(rootDir: string): FileStore {
  const root = resolve(rootDir);
  const pathFor = (key: string) => {
    const path = join(root, key);
    if (!FILE_KEY.test(key) || !path.startsWith(root + sep)) throw new Error(`invalid file key ${key}`);
    return path;
  };
  return {
    async putFile(key, localPath) {
      const path = pathFor(key);
      await mkdir(dirname(path), { recursive: true });
      await copyFile(localPath, path);
    },
    async getStream(key) {
      const path = pathFor(key);
      await stat(path);
      return createReadStream(path);
    },
    async delete(key) {
      await unlink(pathFor(key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    },
  };
}
