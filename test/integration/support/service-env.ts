import { randomBytes } from "node:crypto";
import { join } from "node:path";

/**
 * The environment an API and a worker of one test stack share: its Redis and
 * queue prefix, its model library, images on disk under `workDir`, a fresh
 * URL signing secret. Callers add what is their own (ports, keys, limits).
 */
export function fsServiceEnv(options: { redisUrl: string; prefix: string; catalogPath: string; workDir: string }): Record<string, string> {
  return {
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.prefix,
    MODEL_CATALOG_PATH: options.catalogPath,
    LOG_LEVEL: "info",
    STORAGE_DRIVER: "fs",
    STORAGE_FS_ROOT: join(options.workDir, "images"),
    URL_SIGNING_SECRET: randomBytes(32).toString("hex"),
  };
}
