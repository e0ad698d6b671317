import { z } from "zod";
import { createFsImageStore } from "./fs-store.js";
import type { ImageStore } from "./image-store.js";
import { createFsFileStore, type FileStore } from "./file-store.js";
import { deferredFileStore, deferredImageStore } from "./deferred-stores.js";
import { DEFAULT_S3_CONNECT_TIMEOUT_MS, DEFAULT_S3_REQUEST_TIMEOUT_MS, type S3ImageStoreOptions } from "./s3-settings.js";

const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");

/** Storage settings, shared by the API and the worker (same env names). */
export const storageEnvSchema = z.object({
  STORAGE_DRIVER: z.enum(["fs", "s3"]).default("fs"),
  /** fs driver: folder holding the images. */
  STORAGE_FS_ROOT: z.string().min(1).default(".data/images"),
  S3_BUCKET: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_ENDPOINT: z.url().optional(),
  S3_PUBLIC_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: flag.default(false),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Per attempt: longest wait for a connection to the S3 server. */
  S3_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_S3_CONNECT_TIMEOUT_MS),
  /**
   * Per attempt: longest wait from sending an image request to the reply's
   * headers, so a server that accepts and never answers cannot hold a write.
   * Batch files stream without it.
   */
  S3_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_S3_REQUEST_TIMEOUT_MS),
});
export type StorageEnv = z.infer<typeof storageEnvSchema>;

/** Checks that belong to the storage settings as a whole; used in superRefine. */
export function checkStorageEnv(env: StorageEnv, ctx: z.RefinementCtx): void {
  if (env.STORAGE_DRIVER === "s3" && !env.S3_BUCKET) {
    ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "S3_BUCKET is required when STORAGE_DRIVER=s3" });
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    ctx.addIssue({
      code: "custom",
      path: ["S3_SECRET_ACCESS_KEY"],
      message: "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together",
    });
  }
}

export function createImageStore(
  env: StorageEnv,
  /** Only processes that hand out links (the API) need these. */
  fsLinks?: { publicBaseUrl: string; urlSigningSecret: string },
): ImageStore {
  if (env.STORAGE_DRIVER === "fs") {
    return createFsImageStore({ rootDir: env.STORAGE_FS_ROOT, ...fsLinks });
  }
  const options = s3Options(env);
  return deferredImageStore("s3", async () => (await import("./s3-store.js")).createS3ImageStore(options));
}

function s3Options(env: StorageEnv): S3ImageStoreOptions {
  return {
    bucket: env.S3_BUCKET!,
    region: env.S3_REGION,
    endpoint: env.S3_ENDPOINT,
    publicEndpoint: env.S3_PUBLIC_ENDPOINT,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    maxAttempts: env.S3_MAX_ATTEMPTS,
    connectTimeoutMs: env.S3_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: env.S3_REQUEST_TIMEOUT_MS,
    credentials:
      env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
        : undefined,
  };
}

/** Batch API files go to the same place as images: the same bucket or folder. */
export function createFileStore(env: StorageEnv): FileStore {
  if (env.STORAGE_DRIVER === "fs") return createFsFileStore(env.STORAGE_FS_ROOT);
  const options = s3Options(env);
  return deferredFileStore(async () => {
    const [{ clientConfig }, { createS3FileStore }, { S3Client }] = await Promise.all([
      import("./s3-store.js"),
      import("./s3-file-store.js"),
      import("@aws-sdk/client-s3"),
    ]);
    return createS3FileStore(new S3Client(clientConfig(options, options.endpoint, false)), options.bucket);
  });
}
