// The S3 driver's settings, apart from the driver itself: the configuration
// schema and its callers read these without loading the AWS SDK (~38 MB of
// resident memory and 6 MB of heap), which processes on the fs driver never use.

export interface S3ImageStoreOptions {
  bucket: string;
  region: string;
  /** Set for S3-compatible servers (MinIO, Ceph, R2...); unset for AWS. */
  endpoint?: string | undefined;
  /**
   * Origin that callers can reach, when it differs from the one workers use
   * (e.g. `http://minio:9000` inside a cluster, a public host outside).
   * Presigned links are signed for this origin.
   */
  publicEndpoint?: string | undefined;
  forcePathStyle: boolean;
  /** Static credentials; when absent the SDK's default chain (IAM role, env) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** SDK attempts per call (its own backoff with jitter). */
  maxAttempts?: number;
  /** Longest wait for a TCP connection to the server, per attempt (S3_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /**
   * Longest wait, per attempt, from sending a request to the reply's headers
   * (S3_REQUEST_TIMEOUT_MS): a server that accepts and never answers cannot
   * hold an image write (or read) for ever. Image operations only; batch files
   * stream for as long as they take.
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_S3_CONNECT_TIMEOUT_MS = 3000;
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 30_000;
