import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getFreePort, startNodeService, type ServiceProcess } from "@imagegen/local-services";
import { resolve } from "node:path";
import { suite } from "./context.js";
import { fsServiceEnv } from "./service-env.js";

const repoRoot = resolve(import.meta.dirname, "../../..");
const entry = (app: string) => join(repoRoot, "apps", app, "dist", "main.js");

/**
 * A stack of its own for the console's tests: the suite's Redis under a
 * prefix of ours, the suite's healthy simulator, one worker and one API whose
 * bootstrap key is the default workspace's admin (as `npm start` runs it).
 * The API trusts X-Forwarded-For from loopback so tests that fail sign-ins
 * can do it from an address of their own.
 */
export async function startConsoleStack(name: string, apiEnv: Record<string, string> = {}) {
  const { redis, simulators, logDir } = suite();
  const workDir = mkdtempSync(join(tmpdir(), `imagegen-${name}-`));
  const catalogPath = join(workDir, "models.yaml");
  const upstream = (upstreamName: string, url: string) =>
    `[{ name: ${upstreamName}, protocol: openai, base_url: "${url}", model: sim, max_concurrency: 8, timeout_ms: 5000, max_attempts: 1, health_check: { enabled: true, interval_ms: 500, timeout_ms: 300, unhealthy_threshold: 1 } }]`;
  writeFileSync(
    catalogPath,
    `models:
  - id: console-sdxl
    description: Simulated SDXL-class model for the console's tests.
    sizes: ["256x256", "512x512"]
    default_size: "256x256"
    max_n: 4
    max_prompt_length: 1000
    parameters:
      seed: { type: integer, minimum: 0, maximum: 4294967295, description: Same seed and prompt give the same image. }
      negative_prompt: { type: string, max_length: 500 }
      style: { type: string, enum: [vivid, natural] }
      guidance_scale: { type: number, minimum: 0, maximum: 30 }
      tiling: { type: boolean }
    upstreams: ${upstream("console-sim", simulators.healthy!)}
  - id: console-slow
    description: A model that takes three seconds per image.
    sizes: ["256x256"]
    upstreams: ${upstream("console-slow-sim", simulators.slow!)}
  - id: console-down
    description: A model whose only upstream is down.
    sizes: ["256x256"]
    upstreams: ${upstream("console-dead", `http://127.0.0.1:${await getFreePort()}`)}
`,
  );
  const prefix = `it-${name}`;
  const adminKey = `sk-console-admin-${randomBytes(16).toString("hex")}`;
  const memberKey = `sk-console-member-${randomBytes(16).toString("hex")}`;
  const adminToken = `admin-${randomBytes(24).toString("hex")}`;
  const common = { ...fsServiceEnv({ redisUrl: redis.url, prefix, catalogPath, workDir }), SHUTDOWN_TIMEOUT_MS: "5000", UPSTREAM_RECOVERY_WAIT_MS: "0" };
  const processes: ServiceProcess[] = [];
  const workerPort = await getFreePort();
  processes.push(
    await startNodeService({
      name: `${name}-worker`,
      entry: entry("worker"),
      env: { ...common, METRICS_PORT: String(workerPort), METRICS_HOST: "127.0.0.1", MODEL_HEALTH_INTERVAL_MS: "500" },
      readyUrl: `http://127.0.0.1:${workerPort}/readyz`,
      logFile: join(logDir, `${name}-worker.log`),
    }),
  );
  const [apiPort, apiMetricsPort] = await Promise.all([getFreePort(), getFreePort()]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  processes.push(
    await startNodeService({
      name: `${name}-api`,
      entry: entry("api"),
      env: {
        ...common,
        PORT: String(apiPort),
        HOST: "127.0.0.1",
        PUBLIC_BASE_URL: apiUrl,
        METRICS_PORT: String(apiMetricsPort),
        METRICS_HOST: "127.0.0.1",
        BOOTSTRAP_API_KEY: adminKey,
        BOOTSTRAP_API_KEY_ROLE: "admin",
        API_KEYS: memberKey,
        ADMIN_TOKEN: adminToken,
        AUTH_FAILURES_PER_MINUTE: "5",
        TRUST_PROXY: "loopback",
        GENERATION_HISTORY_PER_WORKSPACE: "12",
        ...apiEnv,
      },
      readyUrl: `${apiUrl}/readyz`,
      logFile: join(logDir, `${name}-api.log`),
    }),
  );
  return {
    apiUrl,
    adminKey,
    memberKey,
    adminToken,
    prefix,
    async stop() {
      await Promise.all(processes.map((process) => process.stop("SIGTERM", 5000).catch(() => undefined)));
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
export type ConsoleStack = Awaited<ReturnType<typeof startConsoleStack>>;
