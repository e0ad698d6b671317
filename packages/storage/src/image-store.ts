/**
 * Where generated images live. Workers write, the API reads (for b64_json)
 * and hands out time-limited links (for url). Both drivers keep the same
 * contract so the choice is configuration, not code.
 */
export interface ImageStore {
  readonly driver: "fs" | "s3";
  /**
   * Every operation that does I/O takes an optional AbortSignal: the caller's
   * deadline. Aborted, it rejects with the signal's reason (or an AbortError)
   * and leaves the network call; the S3 client's own timeouts bound it too.
   */
  put(key: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void>;
  /** Stores a file from local disk, streamed: an edit's inputs may be tens of megabytes each. */
  putFile(key: string, path: string, contentType: string, signal?: AbortSignal): Promise<void>;
  get(key: string, signal?: AbortSignal): Promise<Buffer>;
  /** Removes an image; a key that does not exist is not an error (deletes are retried and repeated). */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** A GET link that stops working after `ttlSeconds`. Computed locally: no I/O, no signal. */
  signedUrl(key: string, ttlSeconds: number): Promise<string>;
  /** Throws when the store cannot be reached; used by readiness checks. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Releases what the store holds (connections, files made ahead); called once, at shutdown. */
  close(): Promise<void>;
}

/** Thrown when an object that should exist does not. */
export class ImageNotFoundError extends Error {
  override name = "ImageNotFoundError";
  constructor(readonly key: string) {
    super(`image ${key} not found in storage`);
  }
}
