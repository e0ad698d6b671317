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
import { DEFAULT_S3_CONNECT_TIMEOUT_MS, DEFAULT_S3_REQUEST_TIMEOUT_MS, type S3ImageStoreOptions } from "./s3-settings.js";

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
    async close() {
      client.destroy();
      if (signer !== client) signer.destroy();
    },
  };
}
