import { createHash, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * Writes one multipart file stream (busboy's, with its `fileSize` limit) to
 * `path`, counting and hashing the bytes on the way, so uploads never sit
 * whole in memory. `truncated` says the limit cut the file short.
 */
export async function spoolFile(stream: Readable, path: string, hash: Hash = createHash("sha256")): Promise<{ bytes: number; hash: Hash; truncated: boolean }> {
  let bytes = 0;
  let truncated = false;
  stream.on("limit", () => (truncated = true));
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(stream, counter, createWriteStream(path));
  return { bytes, hash, truncated };
}

/**
 * Reads a multipart file part we do not keep and throws its bytes away.
 * With an error listener: when the caller hangs up mid-part, busboy
 * destroys the part's stream with an error, and an 'error' event nobody
 * listens to ends the process.
 */
export function discardFileStream(stream: Readable): void {
  stream.on("error", () => {});
  stream.resume();
}
