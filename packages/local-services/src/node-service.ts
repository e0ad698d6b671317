import { appNodeFlags } from "./app-node-flags.js";
import { killChildNow, settledOutput, spawnWithOutput, stopChild, type RunningChild } from "./child-process.js";
import { httpGetStatus, pollUntilReady } from "./probes.js";
import { track } from "./registry.js";
import type { ServiceProcess } from "./types.js";

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

export interface NodeServiceOptions {
  name: string;
  /**
   * Path of the JavaScript entry point, run with this same Node binary and
   * the Node flags its app declares (see app-node-flags.ts).
   */
  entry: string;
  args?: string[];
  /** The child's whole configuration: only PATH and HOME are inherited besides it. */
  env: Record<string, string>;
  cwd?: string;
  /** Polled with GET until it answers 2xx. */
  readyUrl?: string;
  readyTimeoutMs?: number;
  logFile?: string;
  /** Copy each output line to our stdout as `[name] line`. */
  echo?: boolean;
}

/** Writes complete lines with a prefix; keeps a partial last line until its newline arrives. */
function createLineEcho(prefix: string, write: (text: string) => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    const lines = (pending + chunk.toString("utf8")).split("\n");
    pending = lines.pop() ?? "";
    if (lines.length > 0) write(lines.map((line) => `${prefix}${line}\n`).join(""));
  };
}

function minimalEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // The child sees only what the caller passes, so tests cannot pass by accident
  // on settings leaked from the developer's shell.
  const base: NodeJS.ProcessEnv = {};
  if (process.env.PATH !== undefined) base.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) base.HOME = process.env.HOME;
  return { ...base, ...env };
}

async function waitForReadiness(running: RunningChild, options: NodeServiceOptions): Promise<void> {
  const readyUrl = options.readyUrl;
  if (readyUrl === undefined) return;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const outcome = await pollUntilReady({
    probe: async (attemptTimeoutMs) => {
      const status = await httpGetStatus(readyUrl, attemptTimeoutMs);
      return status >= 200 && status < 300;
    },
    intervalMs: 50,
    timeoutMs,
    exited: running.exited,
  });
  if (outcome === "ready") return;
  killChildNow(running);
  const reason =
    outcome === "exited"
      ? `exited with code ${String(await running.exited)} before ${readyUrl} was ready`
      : `was not ready at ${readyUrl} within ${timeoutMs} ms`;
  throw new Error(`${options.name} ${reason}. Recent output:\n${await settledOutput(running)}`);
}

/** Spawns a Node.js service (API, worker, simulator) and waits until it is ready. */
export async function startNodeService(options: NodeServiceOptions): Promise<ServiceProcess> {
  const prefix = `[${options.name}] `;
  const running = await spawnWithOutput({
    command: process.execPath,
    args: [...appNodeFlags(options.entry), options.entry, ...(options.args ?? [])],
    env: minimalEnv(options.env),
    cwd: options.cwd,
    logFile: options.logFile,
    onOutput: options.echo ? createLineEcho(prefix, (text) => process.stdout.write(text)) : undefined,
  }).catch((error: Error) => {
    // e.g. ENOENT for a missing cwd, which Node reports as the node binary missing
    throw new Error(`${options.name} could not be spawned (cwd ${options.cwd ?? process.cwd()}): ${error.message}`);
  });
  const untrack = track({
    name: options.name,
    stop: async () => void (await stopChild(running, "SIGTERM", DEFAULT_STOP_TIMEOUT_MS)),
    killNow: () => killChildNow(running),
  });
  void running.exited.then(untrack);
  await waitForReadiness(running, options);

  return {
    name: options.name,
    pid: running.pid,
    stop: (signal = "SIGTERM", timeoutMs = DEFAULT_STOP_TIMEOUT_MS) => stopChild(running, signal, timeoutMs),
    async kill() {
      await stopChild(running, "SIGKILL", DEFAULT_STOP_TIMEOUT_MS);
    },
    exited: running.exited,
    output: running.output,
  };
}
