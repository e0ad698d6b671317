import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { getFreePort } from "@imagegen/local-services";
import { alive, childPids } from "./processes.js";

const repoRoot = resolve(import.meta.dirname, "../../..");

export interface Launched {
  /** The `npm start` launcher process itself. */
  process: ChildProcess;
  apiUrl: string;
  /** Everything it printed so far. */
  terminal(): string;
  /** Ctrl-C if it still runs, then SIGKILL whatever of it is left. */
  stopIfRunning(): Promise<void>;
}

/**
 * Runs the built launcher (`npm start`) on a free port with `env` on top of
 * a minimal environment, and resolves once it prints its banner.
 */
export async function startLauncher(env: Record<string, string>): Promise<Launched> {
  const port = await getFreePort();
  const child = spawn(process.execPath, [join(repoRoot, "apps", "local", "dist", "main.js")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: String(port), LOCAL_ECHO_LOGS: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let terminal = "";
  child.stdout!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  const deadline = Date.now() + 60_000;
  while (!terminal.includes("Press Ctrl-C to stop.")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not become ready:\n${terminal}`);
    await new Promise((wake) => setTimeout(wake, 250));
  }
  return {
    process: child,
    apiUrl: `http://127.0.0.1:${port}`,
    terminal: () => terminal,
    async stopIfRunning() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const children = [...childPids(child.pid, "apps/"), ...childPids(child.pid, "redis-server")];
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((done) => setTimeout(done, 20_000))]);
      for (const pid of [...children, child.pid!].filter(alive)) process.kill(pid, "SIGKILL");
    },
  };
}
