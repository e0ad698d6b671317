import { tmpdir } from "node:os";
import { commonEnvSchema, parseEnv } from "@imagegen/shared";
import { checkStorageEnv, storageEnvSchema } from "@imagegen/storage";
import { z } from "zod";
import { accessEnvShape } from "./workspaces/env.js";

const commaList = z
  .string()
  .transform((value) => value.split(",").map((item) => item.trim()).filter(Boolean));

const apiEnvSchema = commonEnvSchema
  .extend(storageEnvSchema.shape)
  .extend({
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    HOST: z.string().default("0.0.0.0"),
    /** Origin callers use to reach this API; links to filesystem-stored images start with it. */
    PUBLIC_BASE_URL: z.url().optional(),
    /** HMAC key for filesystem image links; share it across API replicas. */
    URL_SIGNING_SECRET: z.string().min(32, "URL_SIGNING_SECRET must be at least 32 characters").optional(),
    /** Lifetime of `url` responses (presigned S3 links or signed API links). */
    IMAGE_URL_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(3600),
    /**
     * Deadline for receiving a whole request (headers and body); then the
     * connection is closed with 408. Bounds slow or stalled senders; uploads
     * of MAX_FILE_BYTES must arrive within it. The response may take longer.
     */
    REQUEST_BODY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
    /** Largest JSON body accepted; image requests are small. */
    MAX_REQUEST_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** Keys accepted for the default workspace, comma-separated. Hashed at start-up. */
    API_KEYS: commaList.default([]),
    /** One more key for the default workspace; the embedded start prints it. */
    BOOTSTRAP_API_KEY: z.string().min(16, "BOOTSTRAP_API_KEY must be at least 16 characters").optional(),
    /** Role of BOOTSTRAP_API_KEY: `admin` also manages the default workspace's keys and reads its usage (`npm start` sets it). Other keys from the environment are members. */
    BOOTSTRAP_API_KEY_ROLE: z.enum(["admin", "member"]).default("member"),
    /** How long a console sign-in lasts. */
    CONSOLE_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(8 * 3600),
    /** Folder of the built console served at /console/; default: apps/console/dist next to this app. */
    CONSOLE_DIR: z.string().optional(),
    /** SHA-256 hex digests of accepted keys, for deployments that keep no plaintext. */
    API_KEY_SHA256: commaList.pipe(z.array(z.string().regex(/^[0-9a-f]{64}$/, "API_KEY_SHA256 holds hex SHA-256 digests"))).default([]),
    /** Requests per minute of a workspace that sets none itself; 0 = unlimited. */
    RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(0),
    ...accessEnvShape,
    /** Largest single input image or mask of POST /v1/images/edits (OpenAI's limit is 50 MB). */
    EDIT_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).default(50 * 1024 * 1024),
    /**
     * With no worker heartbeat in the last 5 s, answer image generations
     * with 503 at once and report not ready. `false`: accept them and let
     * them wait in the queue for a worker (async jobs survive a worker-less spell).
     */
    REFUSE_WITHOUT_WORKERS: z.enum(["true", "false"]).default("true").transform((value) => value === "true"),
    /**
     * Let `webhook_url` point at loopback and private addresses. Off: such
     * targets are refused at submission with 400; set it like the worker's.
     */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
    /** Largest Batch API file accepted (OpenAI's limit is 200 MB). */
    MAX_FILE_BYTES: z.coerce.number().int().min(1024).default(200 * 1024 * 1024),
    /** Recent generations each workspace's list (GET /v1/images/generations) keeps; older ones leave it (and plain synchronous calls are forgotten). */
    GENERATION_HISTORY_PER_WORKSPACE: z.coerce.number().int().min(10).max(100_000).default(1000),
    /**
     * Where uploads are spooled before they reach the file store: needs room
     * for MAX_FILE_BYTES per upload in flight. Leftovers of a crash are swept at start.
     */
    UPLOAD_TMP_DIR: z.string().min(1).default(tmpdir()),
    /** How long an async job may wait in the queue before it expires. */
    ASYNC_JOB_TTL_SECONDS: z.coerce.number().int().min(60).default(24 * 3600),
    /** Testing aid: replaces every batch's completion window (seconds). Leave unset in production. */
    BATCH_COMPLETION_WINDOW_OVERRIDE_SECONDS: z.coerce.number().int().min(1).optional(),
    /** Port of /metrics (kept off the public port); 0 picks a free one. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
    METRICS_HOST: z.string().default("0.0.0.0"),
  })
  .superRefine(checkStorageEnv)
  .superRefine((env, ctx) => {
    // Keys minted through the admin API or CLI live in Redis, so keys in the
    // environment are optional; with neither, every call gets 401 until one is minted.
    if (env.STORAGE_DRIVER === "fs" && !env.URL_SIGNING_SECRET) {
      ctx.addIssue({ code: "custom", path: ["URL_SIGNING_SECRET"], message: "URL_SIGNING_SECRET is required when STORAGE_DRIVER=fs" });
    }
  })
  .transform((env) => ({ ...env, PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}` }));

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseEnv(apiEnvSchema, env, "api");
}
