import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  chooseBackend,
  getFreePort,
  startNodeService,
  startObjectStore,
  startRedis,
  stopAll,
  type ObjectStoreHandle,
} from "@imagegen/local-services";
import { createSimulator, type Simulator } from "@imagegen/simulator";
import type { TestProject } from "vitest/node";
import { SIMULATOR_PROFILES, testCatalog, type SimulatorProfile } from "./support/catalog.js";
import type { StackInfo, SuiteInfo } from "./support/context.js";

/**
 * Starts the real system once for the integration project: Redis, an
 * S3-protocol server, one GPU simulator per upstream behaviour, and the built
 * API and worker processes, in two stacks (S3 storage, filesystem storage)
 * plus a rate-limited API replica sharing the filesystem stack's queue.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const entry = (app: string) => join(repoRoot, "apps", app, "dist", "main.js");

const API_KEY = `sk-test-${randomBytes(16).toString("hex")}`;
const HASHED_API_KEY = `sk-test-hashed-${randomBytes(16).toString("hex")}`;
const URL_TTL_SECONDS = 4;
const RATE_LIMIT_PER_MINUTE = 3;
const WEBHOOK_SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const ADMIN_TOKEN = `admin-${randomBytes(24).toString("hex")}`;
/** The expiring replica shortens every batch's completion window to this. */
const SHORT_COMPLETION_WINDOW_SECONDS = 4;

async function startSimulators(): Promise<{ simulators: Simulator[]; urls: Record<SimulatorProfile, string> }> {
  const simulators: Simulator[] = [];
  const urls = {} as Record<SimulatorProfile, string>;
  for (const [profile, options] of Object.entries(SIMULATOR_PROFILES) as Array<[SimulatorProfile, object]>) {
    const simulator = createSimulator({ seed: 7, ...options });
    simulators.push(simulator);
    urls[profile] = (await simulator.listen(0, "127.0.0.1")).url;
  }
  return { simulators, urls };
}

async function startStack(options: {
  name: string;
  prefix: string;
  storage: Record<string, string>;
  common: Record<string, string>;
  logDir: string;
  startWorker: boolean;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  workerMetricsUrl?: string;
}): Promise<StackInfo> {
  const [apiPort, apiMetricsPort, workerMetricsPort] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
  const env = { ...options.common, ...options.storage, QUEUE_PREFIX: options.prefix };
  if (options.startWorker) {
    await startNodeService({
      name: `worker-${options.name}`,
      entry: entry("worker"),
      env: {
        ...env,
        METRICS_PORT: String(workerMetricsPort),
        METRICS_HOST: "127.0.0.1",
        WORKER_CONCURRENCY: "32",
        WEBHOOK_SIGNING_SECRET,
        ...options.workerEnv,
      },
      readyUrl: `http://127.0.0.1:${workerMetricsPort}/readyz`,
      logFile: join(options.logDir, `worker-${options.name}.log`),
    });
  }
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await startNodeService({
    name: `api-${options.name}`,
    entry: entry("api"),
    env: {
      ...env,
      PORT: String(apiPort),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: apiUrl,
      METRICS_PORT: String(apiMetricsPort),
      METRICS_HOST: "127.0.0.1",
      API_KEYS: API_KEY,
      API_KEY_SHA256: createHash("sha256").update(HASHED_API_KEY).digest("hex"),
      IMAGE_URL_TTL_SECONDS: String(URL_TTL_SECONDS),
      MAX_REQUEST_BODY_BYTES: String(64 * 1024),
      ...options.apiEnv,
    },
    readyUrl: `${apiUrl}/readyz`,
    logFile: join(options.logDir, `api-${options.name}.log`),
  });
  return {
    apiUrl,
    apiMetricsUrl: `http://127.0.0.1:${apiMetricsPort}/metrics`,
    workerMetricsUrl: options.workerMetricsUrl ?? `http://127.0.0.1:${workerMetricsPort}/metrics`,
    storage: options.storage.STORAGE_DRIVER as "s3" | "fs",
    urlTtlSeconds: URL_TTL_SECONDS,
  };
}

function s3Env(store: ObjectStoreHandle): Record<string, string> {
  return {
    STORAGE_DRIVER: "s3",
    S3_BUCKET: store.bucket,
    S3_REGION: store.region,
    S3_ENDPOINT: store.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    S3_ACCESS_KEY_ID: store.accessKeyId,
    S3_SECRET_ACCESS_KEY: store.secretAccessKey,
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  for (const app of ["api", "worker"]) {
    if (!existsSync(entry(app))) throw new Error(`${entry(app)} is missing: build first (npm test does)`);
  }
  const workDir = mkdtempSync(join(tmpdir(), "imagegen-it-"));
  const logDir = join(repoRoot, ".data", "test-logs");
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  const backend = await chooseBackend();
  const [redis, objectStore, sims, deadPort] = await Promise.all([
    startRedis({ dataDir: join(workDir, "redis"), backend }),
    startObjectStore({ dataDir: join(workDir, "s3"), bucket: "images", backend }),
    startSimulators(),
    getFreePort(),
  ]);
  const catalogPath = join(workDir, "models.yaml");
  writeFileSync(catalogPath, testCatalog(sims.urls, `http://127.0.0.1:${deadPort}`));
  // UPSTREAM_RECOVERY_WAIT_MS 0: queued work against a dead test upstream fails
  // at once with 503 instead of waiting for it (the processor unit tests cover waiting).
  const common = {
    REDIS_URL: redis.url,
    MODEL_CATALOG_PATH: catalogPath,
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "10000",
    UPSTREAM_RECOVERY_WAIT_MS: "0",
    // The default workspace signs its webhooks with this (tests verify with it).
    DEFAULT_WORKSPACE_WEBHOOK_SECRET: WEBHOOK_SIGNING_SECRET,
  };
  const fsStorage = { STORAGE_DRIVER: "fs", STORAGE_FS_ROOT: join(workDir, "images"), URL_SIGNING_SECRET: randomBytes(32).toString("hex") };

  const [s3Stack, fsStack] = await Promise.all([
    startStack({ name: "s3", prefix: "it-s3", storage: s3Env(objectStore), common, logDir, startWorker: true }),
    // The filesystem stack's webhooks may reach the test's loopback receivers; the S3 stack's may not.
    startStack({
      name: "fs",
      prefix: "it-fs",
      storage: fsStorage,
      common,
      logDir,
      startWorker: true,
      workerEnv: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
      // Only this stack has the admin API (the S3 stack shows it absent).
      apiEnv: { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
    }),
  ]);
  // A second API replica on the filesystem stack's queue, with a tight rate limit.
  const limitedStack = await startStack({
    name: "limited",
    prefix: "it-fs",
    storage: fsStorage,
    common,
    logDir,
    startWorker: false,
    apiEnv: { RATE_LIMIT_REQUESTS_PER_MINUTE: String(RATE_LIMIT_PER_MINUTE), WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
    workerMetricsUrl: fsStack.workerMetricsUrl,
  });

  // And one whose batches expire after a few seconds.
  const expiringStack = await startStack({
    name: "expiring",
    prefix: "it-fs",
    storage: fsStorage,
    common,
    logDir,
    startWorker: false,
    apiEnv: { BATCH_COMPLETION_WINDOW_OVERRIDE_SECONDS: String(SHORT_COMPLETION_WINDOW_SECONDS), WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
    workerMetricsUrl: fsStack.workerMetricsUrl,
  });

  // And one on a queue no worker serves: its jobs stay queued (cancel and position tests).
  const idleStack = await startStack({
    name: "idle",
    prefix: "it-idle",
    storage: fsStorage,
    common,
    logDir,
    startWorker: false,
    apiEnv: { REFUSE_WITHOUT_WORKERS: "false" },
  });

  const info: SuiteInfo = {
    apiKey: API_KEY,
    hashedApiKey: HASHED_API_KEY,
    stacks: { s3: s3Stack, fs: fsStack, limited: limitedStack, expiring: expiringStack, idle: idleStack },
    webhookSigningSecret: WEBHOOK_SIGNING_SECRET,
    adminToken: ADMIN_TOKEN,
    shortCompletionWindowSeconds: SHORT_COMPLETION_WINDOW_SECONDS,
    simulators: sims.urls,
    logDir,
    rateLimitPerMinute: RATE_LIMIT_PER_MINUTE,
    redis: { url: redis.url, prefixes: { s3: "it-s3", fs: "it-fs" } },
  };
  project.provide("suite", info);
  // For the sweep after the run (scripts/check-test-logs.mjs): no log may contain these.
  writeFileSync(
    join(repoRoot, ".data", "test-secrets.json"),
    JSON.stringify([API_KEY, HASHED_API_KEY, ADMIN_TOKEN, WEBHOOK_SIGNING_SECRET, fsStorage.URL_SIGNING_SECRET]),
    { mode: 0o600 },
  );

  return async () => {
    await stopAll();
    await Promise.all(sims.simulators.map((simulator) => simulator.close()));
    rmSync(workDir, { recursive: true, force: true });
  };
}
