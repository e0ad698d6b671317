import { chooseBackend } from "./backend.js";
import { startMinioContainer, startRedisContainer } from "./containers.js";
import { startRedisServer } from "./redis-server.js";
import { startS3rver } from "./s3rver.js";
import type { ObjectStoreHandle, RedisHandle, ServiceBackend } from "./types.js";

/** Redis with AOF persistence in `dataDir`; the backend is chosen by chooseBackend() unless given. */
export async function startRedis(options: { dataDir: string; backend?: ServiceBackend }): Promise<RedisHandle> {
  const backend = options.backend ?? (await chooseBackend());
  return backend === "docker" ? startRedisContainer({ dataDir: options.dataDir }) : startRedisServer({ dataDir: options.dataDir });
}

/** An S3-protocol store with `bucket` created: MinIO in a container, or s3rver as a local child process. */
export async function startObjectStore(options: { dataDir: string; bucket: string; backend?: ServiceBackend }): Promise<ObjectStoreHandle> {
  const backend = options.backend ?? (await chooseBackend());
  return backend === "docker"
    ? startMinioContainer({ dataDir: options.dataDir, bucket: options.bucket })
    : startS3rver({ dataDir: options.dataDir, bucket: options.bucket });
}
