import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { ImageNotFoundError, type ImageStore } from "./image-store.js";

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

/**
 * `boundRequests`: give each request a whole-request deadline. Off for batch
 * files, which can be hundreds of megabytes; the connect timeout holds for all.
 */
export function clientConfig(options: S3ImageStoreOptions, endpoint: string | undefined, boundRequests = true): S3ClientConfig {
  return {
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_S3_CONNECT_TIMEOUT_MS,
      // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
      ...(boundRequests ? { requestTimeout: options.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true } : {}),
    },
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts ?? 3,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // S3-compatible servers vary in support for the newer flexible
    // checksums; send them only where the operation requires one.
    ...(options.endpoint ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
  };
}

export function createS3ImageStore(options: S3ImageStoreOptions): ImageStore {
  const client = new S3Client(clientConfig(options, options.endpoint));
  // Signing needs no network; a second client only fixes the link's origin.
  const signer = options.publicEndpoint
    ? new S3Client(clientConfig(options, options.publicEndpoint))
    : client;

  return {
    driver: "s3",
    async put(key, body, contentType, signal) {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentType: contentType }), { abortSignal: signal });
    },
    async putFile(key, path, contentType, signal) {
      const { size } = await stat(path);
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: contentType }), { abortSignal: signal });
    },
    async get(key, signal) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }), { abortSignal: signal });
        if (!object.Body) throw new ImageNotFoundError(key);
        return Buffer.from(await object.Body.transformToByteArray());
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") {
          throw new ImageNotFoundError(key);
        }
        throw error;
      }
    },
    async delete(key, signal) {
      // S3 answers 204 for a missing key too, so deletes are idempotent.
      await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key }), { abortSignal: signal });
    },
    async signedUrl(key, ttlSeconds) {
      return getSignedUrl(signer, new GetObjectCommand({ Bucket: options.bucket, Key: key }), { expiresIn: ttlSeconds });
    },
    async ping(signal) {
      await client.send(new HeadBucketCommand({ Bucket: options.bucket }), { abortSignal: signal });
    },
  };
}
