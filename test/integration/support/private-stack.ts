import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  getFreePort,
  startNodeService,
  startRedisCluster,
  startRedisServer,
  startS3rver,
  type ObjectStoreHandle,
  type RedisClusterHandle,
  type RedisHandle,
  type ServiceProcess,
} from "@imagegen/local-services";
import { createSimulator, type Simulator, type SimulatorOptionsInput } from "@imagegen/simulator";
import { afterAll, beforeAll } from "vitest";
import { suite } from "./context.js";

const repoRoot = resolve(import.meta.dirname, "../../..");
const entry = (app: string) => join(repoRoot, "apps", app, "dist", "main.js");

/**
 * A stack of its own for tests that break things (kill a worker, restart
 * Redis): its own redis-server, simulator, API and workers, so the rest of
 * the suite running in parallel is not disturbed.
 */
export async function startPrivateStack(options: {
  simulator: SimulatorOptionsInput;
  storage?: "fs" | "s3";
  /** GPU slots and per-attempt timeout of the one upstream. */
  upstream?: { slots?: number; attemptTimeoutMs?: number };
  /** A 3-master Redis Cluster instead of one redis-server. */
  redisCluster?: boolean;
  /** Opens the admin API (/admin/v1) with this token. */
  adminToken?: string;
  /** Extra environment of every API replica. */
  apiEnv?: Record<string, string>;
}) {
  const workDir = mkdtempSync(join(tmpdir(), "imagegen-private-"));
  const cluster: RedisClusterHandle | undefined = options.redisCluster
    ? await startRedisCluster({ dataDir: join(workDir, "redis-cluster"), logDir: suite().logDir })
    : undefined;
  const redis: RedisHandle = cluster
    ? cluster.masters[0]!
    : await startRedisServer({ dataDir: join(workDir, "redis"), appendOnly: true, logFile: join(suite().logDir, "private-redis.log") });
  const simulator: Simulator = createSimulator(options.simulator);
  const simulatorUrl = (await simulator.listen(0, "127.0.0.1")).url;
  const catalogPath = join(workDir, "models.yaml");
  writeFileSync(
    catalogPath,
    `models:
  - id: private-model
    sizes: ["256x256"]
    max_n: 2
    timeout_ms: 60000
    upstreams: [{ name: private-sim, protocol: openai, base_url: "${simulatorUrl}", model: sim, max_concurrency: ${options.upstream?.slots ?? 8}, timeout_ms: ${options.upstream?.attemptTimeoutMs ?? 20000}, retry_base_delay_ms: 100, retry_max_delay_ms: 1000 }]
`,
  );
  const apiKey = `sk-private-${randomBytes(12).toString("hex")}`;
  const objectStore: ObjectStoreHandle | undefined =
    options.storage === "s3" ? await startS3rver({ dataDir: join(workDir, "s3"), bucket: "images", logFile: join(suite().logDir, "private-s3rver.log") }) : undefined;
  const storage: Record<string, string> = objectStore
    ? {
        STORAGE_DRIVER: "s3",
        S3_BUCKET: objectStore.bucket,
        S3_REGION: objectStore.region,
        S3_ENDPOINT: objectStore.endpoint,
        S3_FORCE_PATH_STYLE: "true",
        S3_ACCESS_KEY_ID: objectStore.accessKeyId,
        S3_SECRET_ACCESS_KEY: objectStore.secretAccessKey,
        S3_MAX_ATTEMPTS: "1",
      }
    : { STORAGE_DRIVER: "fs", STORAGE_FS_ROOT: join(workDir, "images") };
  const common = {
    REDIS_URL: redis.url,
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes } : {}),
    ...(options.adminToken ? { ADMIN_TOKEN: options.adminToken } : {}),
    MODEL_CATALOG_PATH: catalogPath,
    ...storage,
    URL_SIGNING_SECRET: randomBytes(32).toString("hex"),
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "20000",
  };
  const workers: ServiceProcess[] = [];
  let workerCount = 0;

  async function startWorker(): Promise<ServiceProcess & { healthUrl: string }> {
    const port = await getFreePort();
    const name = `private-worker-${++workerCount}`;
    const worker = await startNodeService({
      name,
      entry: entry("worker"),
      // Short locks: a killed worker's jobs move to another worker within seconds.
      env: { ...common, METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1", LOCK_DURATION_MS: "2000", STALLED_INTERVAL_MS: "1000" },
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      logFile: join(suite().logDir, `${name}.log`),
    });
    workers.push(worker);
    return Object.assign(worker, { healthUrl: `http://127.0.0.1:${port}` });
  }

  let apiCount = 0;
  /** Another API replica on the same queue; the first one is started below. */
  async function startApi(): Promise<{ url: string; metricsUrl: string; process: ServiceProcess }> {
    const [port, metricsPort] = await Promise.all([getFreePort(), getFreePort()]);
    const url = `http://127.0.0.1:${port}`;
    const name = `private-api-${++apiCount}`;
    const process = await startNodeService({
      name,
      entry: entry("api"),
      env: {
        ...common,
        PORT: String(port),
        HOST: "127.0.0.1",
        PUBLIC_BASE_URL: url,
        API_KEYS: apiKey,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: "127.0.0.1",
        ...options.apiEnv,
      },
      // Not /readyz: that waits for a worker, and tests start theirs after the API.
      readyUrl: `${url}/healthz`,
      logFile: join(suite().logDir, `${name}.log`),
    });
    apis.push(process);
    return { url, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, process };
  }
  const apis: ServiceProcess[] = [];
  const first = await startApi();
  const apiUrl = first.url;
  const apiMetricsUrl = first.metricsUrl;

  return {
    apiUrl,
    apiMetricsUrl,
    /** The first API replica's process. */
    api: first.process,
    apiKey,
    redis,
    cluster,
    simulator,
    objectStore,
    imagesDir: join(workDir, "images"),
    startWorker,
    startApi,
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop("SIGKILL", 1000).catch(() => undefined)));
      await Promise.all(apis.map((api) => api.stop("SIGTERM", 5000).catch(() => undefined)));
      await simulator.close();
      await objectStore?.stop();
      await (cluster ? cluster.stop() : redis.stop());
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
export type PrivateStack = Awaited<ReturnType<typeof startPrivateStack>>;

/**
 * A private stack for one test file: started (with `workers` workers) before
 * its tests, stopped after them. Call the returned function inside a test.
 */
export function usePrivateStack(options: Parameters<typeof startPrivateStack>[0], workers = 0): () => PrivateStack {
  let stack: PrivateStack | undefined;
  beforeAll(async () => {
    stack = await startPrivateStack(options);
    for (let started = 0; started < workers; started++) await stack.startWorker();
  }, 60_000);
  afterAll(() => stack?.stop());
  return () => {
    if (!stack) throw new Error("the private stack has not started");
    return stack;
  };
}
