import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { getFreePort, startNodeService, startRedisServer, stopAll, type NodeServiceOptions, type ServiceProcess } from "@imagegen/local-services";
import { banner } from "./banner.js";
import { loadLocalConfig } from "./config.js";
import { loadOrCreateSecrets } from "./secrets.js";
import { supervise, type Supervisor } from "./supervise.js";

const print = (line: string) => process.stdout.write(`[launcher] ${line}\n`);

/**
 * `npm start`: the whole service on one machine with nothing to set up. A
 * private redis-server (append-only file on) under the data folder, the GPU
 * simulator, a worker and the API, each its own process as in production.
 * Each is supervised: one that dies is started again (Redis on its
 * append-only file), and Ctrl-C stops whatever runs at that moment.
 */
async function main(): Promise<void> {
  const config = loadLocalConfig(process.env);
  const repoRoot = process.cwd();
  const dataDir = resolve(config.LOCAL_DATA_DIR);
  const logDir = join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const secrets = loadOrCreateSecrets(dataDir);
  const apiKey = config.BOOTSTRAP_API_KEY ?? secrets.apiKey;

  const supervisors: Supervisor[] = [];
  /** What runs now under each name (a restart replaces the entry). */
  const running = new Map<string, ServiceProcess>();
  const workerNames = Array.from({ length: config.WORKERS }, (_, index) => (config.WORKERS === 1 ? "worker" : `worker-${index + 1}`));
  const externalRedis = config.REDIS_URL !== undefined || config.REDIS_CLUSTER_NODES !== undefined;
  const stop = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping the API, ${config.WORKERS === 1 ? "worker" : "workers"}, simulator${externalRedis ? "" : " and Redis"}...\n`);
    for (const supervisor of supervisors) supervisor.stop();
    // In this order whichever process was restarted last: the workers finish
    // with Redis still there, and Redis goes last to flush its append-only file.
    for (const name of ["api", ...workerNames, "simulator"]) await running.get(name)?.stop().catch(() => null);
    await stopAll();
    process.exit(0);
  };
  /** Starts a Node service and keeps it running. */
  const startSupervised = async (options: NodeServiceOptions) => {
    const start = async () => {
      const service = await startNodeService(options);
      running.set(options.name, service);
      return service;
    };
    supervisors.push(supervise(await start(), { name: options.name, start, print }));
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  /** A redis-server of our own, restarted on its append-only file if it dies; its URL. */
  async function startPrivateRedis(): Promise<string> {
    const redis = await startRedisServer({ dataDir: join(dataDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
    // Restarted on the same port and data folder: it replays its append-only file, and the apps reconnect by themselves.
    const redisChild = () => ({ exited: redis.exited() ?? Promise.resolve(null) });
    supervisors.push(
      supervise(redisChild(), {
        name: "redis",
        start: async () => {
          await redis.restart();
          return redisChild();
        },
        print,
      }),
    );
    return redis.url;
  }
  const redisEnv = externalRedis ? { ...(config.REDIS_URL ? { REDIS_URL: config.REDIS_URL } : {}), ...(config.REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: config.REDIS_CLUSTER_NODES } : {}) } : { REDIS_URL: await startPrivateRedis() };

  const [simulatorPort, apiMetricsPort, ...workerMetricsPorts] = await Promise.all([getFreePort(), getFreePort(), ...workerNames.map(() => getFreePort())]);
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
  const baseUrl = `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
  const app = (name: string) => join(repoRoot, "apps", name, "dist", "main.js");
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const shared = {
    ...inherited,
    ...redisEnv,
    MODEL_CATALOG_PATH: resolve(config.MODEL_CATALOG_PATH),
    SIMULATOR_URL: simulatorUrl,
    STORAGE_DRIVER: "fs",
    STORAGE_FS_ROOT: join(dataDir, "images"),
  };

  await startSupervised({
    name: "simulator",
    entry: app("simulator"),
    env: { ...inherited, SIM_PORT: String(simulatorPort), SIM_HOST: "127.0.0.1" },
    readyUrl: `${simulatorUrl}/health`,
    logFile: join(logDir, "simulator.log"),
    echo: config.LOCAL_ECHO_LOGS,
  });
  for (const [index, name] of workerNames.entries()) {
    const metricsPort = workerMetricsPorts[index]!;
    await startSupervised({
      name,
      entry: app("worker"),
      env: {
        ...shared,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: "127.0.0.1",
        WEBHOOK_SIGNING_SECRET: secrets.webhookSigningSecret,
        // One machine: webhook receivers on this machine are the common case.
        WEBHOOK_ALLOW_PRIVATE_TARGETS: process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? "true",
      },
      readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
      logFile: join(logDir, `${name}.log`),
      echo: config.LOCAL_ECHO_LOGS,
    });
  }
  await startSupervised({
    name: "api",
    entry: app("api"),
    env: {
      ...shared,
      PORT: String(config.PORT),
      HOST: config.HOST,
      PUBLIC_BASE_URL: baseUrl,
      BOOTSTRAP_API_KEY: apiKey,
      // The printed key opens the console as the default workspace's admin (keys, usage).
      BOOTSTRAP_API_KEY_ROLE: "admin",
      DEFAULT_WORKSPACE_WEBHOOK_SECRET: secrets.webhookSigningSecret,
      URL_SIGNING_SECRET: secrets.urlSigningSecret,
      METRICS_PORT: String(apiMetricsPort),
      METRICS_HOST: "127.0.0.1",
      // As the worker's below: receivers on this machine are the common case.
      WEBHOOK_ALLOW_PRIVATE_TARGETS: process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? "true",
    },
    readyUrl: `http://127.0.0.1:${config.PORT}/readyz`,
    logFile: join(logDir, "api.log"),
    echo: config.LOCAL_ECHO_LOGS,
  });

  process.stdout.write(
    banner({
      baseUrl,
      apiKey,
      model: "sim-diffusion-xl",
      dataDir,
      webhookSigningSecret: secrets.webhookSigningSecret,
      metrics: {
        api: `http://127.0.0.1:${apiMetricsPort}/metrics`,
        ...Object.fromEntries(workerNames.map((name, index) => [name, `http://127.0.0.1:${workerMetricsPorts[index]!}/metrics`])),
      },
      redis: externalRedis ? (config.REDIS_CLUSTER_NODES ? `cluster ${config.REDIS_CLUSTER_NODES}` : config.REDIS_URL!.replace(/\/\/[^@/]*@/, "//***@")) : "private redis-server (append-only file in the data folder)",
    }),
  );
}

main().catch(async (error: unknown) => {
  console.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
