import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { getFreePort, startNodeService, startRedisServer, stopAll } from "@imagegen/local-services";
import { banner } from "./banner.js";
import { loadLocalConfig } from "./config.js";
import { loadOrCreateSecrets } from "./secrets.js";

/**
 * `npm start`: the whole service on one machine with nothing to set up. A
 * private redis-server (append-only file on) under the data folder, the GPU
 * simulator, a worker and the API, each its own process as in production.
 */
async function main(): Promise<void> {
  const config = loadLocalConfig(process.env);
  const repoRoot = process.cwd();
  const dataDir = resolve(config.LOCAL_DATA_DIR);
  const logDir = join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const secrets = loadOrCreateSecrets(dataDir);
  const apiKey = config.BOOTSTRAP_API_KEY ?? secrets.apiKey;

  const stop = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping the API, worker, simulator and Redis...\n`);
    await stopAll();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  const redis = await startRedisServer({ dataDir: join(dataDir, "redis"), appendOnly: true, logFile: join(logDir, "redis.log") });
  const [simulatorPort, workerMetricsPort, apiMetricsPort] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
  const baseUrl = `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
  const app = (name: string) => join(repoRoot, "apps", name, "dist", "main.js");
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const shared = {
    ...inherited,
    REDIS_URL: redis.url,
    MODEL_CATALOG_PATH: resolve(config.MODEL_CATALOG_PATH),
    SIMULATOR_URL: simulatorUrl,
    STORAGE_DRIVER: "fs",
    STORAGE_FS_ROOT: join(dataDir, "images"),
  };

  await startNodeService({
    name: "simulator",
    entry: app("simulator"),
    env: { ...inherited, SIM_PORT: String(simulatorPort), SIM_HOST: "127.0.0.1" },
    readyUrl: `${simulatorUrl}/health`,
    logFile: join(logDir, "simulator.log"),
    echo: config.LOCAL_ECHO_LOGS,
  });
  await startNodeService({
    name: "worker",
    entry: app("worker"),
    env: {
      ...shared,
      METRICS_PORT: String(workerMetricsPort),
      METRICS_HOST: "127.0.0.1",
      WEBHOOK_SIGNING_SECRET: secrets.webhookSigningSecret,
      // One machine: webhook receivers on this machine are the common case.
      WEBHOOK_ALLOW_PRIVATE_TARGETS: process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS ?? "true",
    },
    readyUrl: `http://127.0.0.1:${workerMetricsPort}/readyz`,
    logFile: join(logDir, "worker.log"),
    echo: config.LOCAL_ECHO_LOGS,
  });
  await startNodeService({
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
      metrics: { api: `http://127.0.0.1:${apiMetricsPort}/metrics`, worker: `http://127.0.0.1:${workerMetricsPort}/metrics` },
    }),
  );
}

main().catch(async (error: unknown) => {
  console.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
