import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve as resolvePath } from "node:path";
import { killChildNow, settledOutput, spawnWithOutput, type RunningChild } from "./child-process.js";
import { getFreePort } from "./free-port.js";
import { httpGetStatus, pollUntilReady } from "./probes.js";
import { startRestartableChild } from "./restartable.js";
import type { ObjectStoreHandle } from "./types.js";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface S3rverOptions {
  dataDir: string;
  bucket: string;
  port?: number;
  logFile?: string;
}

function s3rverBinPath(): string {
  // s3rver has no "exports" map, so its bin file can be resolved directly.
  return createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");
}

async function launch(options: { port: number; dataDir: string; bucket: string; logFile?: string }): Promise<RunningChild> {
  const endpoint = `http://${HOST}:${options.port}`;
  const running = await spawnWithOutput({
    // A child process rather than s3rver in-process: tests stop it to simulate a storage outage.
    command: process.execPath,
    args: [
      s3rverBinPath(),
      "--directory", options.dataDir,
      "--port", String(options.port),
      "--address", HOST,
      // Idempotent: an existing bucket (after restart) is kept with its objects.
      "--configure-bucket", options.bucket,
    ],
    env: process.env,
    logFile: options.logFile,
  });
  const outcome = await pollUntilReady({
    // Its start-up line proves the listener is ours (not another server already on
    // the port); then any HTTP answer means it serves (unsigned requests may be refused).
    probe: async (attemptTimeoutMs) =>
      running.output().includes("S3rver listening on") && (await httpGetStatus(endpoint, attemptTimeoutMs)) > 0,
    intervalMs: 50,
    timeoutMs: READY_TIMEOUT_MS,
    exited: running.exited,
  });
  if (outcome === "ready") return running;
  killChildNow(running);
  const reason = outcome === "exited" ? `exited with code ${String(await running.exited)}` : `did not answer HTTP within ${READY_TIMEOUT_MS} ms`;
  throw new Error(`s3rver on port ${options.port} ${reason}. Output:\n${await settledOutput(running)}`);
}

/** Runs s3rver (an S3-protocol server storing objects as files in `dataDir`) as a child process. */
export async function startS3rver(options: S3rverOptions): Promise<ObjectStoreHandle> {
  const dataDir = resolvePath(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await getFreePort(HOST));
  const launchOptions = { port, dataDir, bucket: options.bucket, logFile: options.logFile };
  const controls = await startRestartableChild({
    name: `s3rver:${port}`,
    launch: () => launch(launchOptions),
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return {
    endpoint: `http://${HOST}:${port}`,
    region: "us-east-1",
    // s3rver's fixed account; it answers InvalidAccessKeyId to any other key id.
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    bucket: options.bucket,
    stop: controls.stop,
    restart: controls.restart,
  };
}
