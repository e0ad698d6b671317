import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Readable } from "node:stream";

// Enough to show why a server failed to start, small enough to keep for
// every child in a long benchmark run.
const OUTPUT_TAIL_BYTES = 200 * 1024;

/** Keeps only the newest `maxBytes` of a byte stream. */
export function createOutputTail(maxBytes = OUTPUT_TAIL_BYTES): { append(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  return {
    append(chunk) {
      chunks.push(chunk);
      totalBytes += chunk.length;
      while (totalBytes > maxBytes && chunks.length > 0) {
        const first = chunks[0]!;
        const excessBytes = totalBytes - maxBytes;
        if (first.length <= excessBytes) {
          chunks.shift();
          totalBytes -= first.length;
        } else {
          chunks[0] = first.subarray(excessBytes);
          totalBytes -= excessBytes;
        }
      }
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}

export interface RunningChild {
  child: ChildProcess;
  pid: number;
  /** Resolves to the exit code (null when ended by a signal); never rejects. */
  exited: Promise<number | null>;
  /** Resolves once stdout/stderr are closed too (normally right after exit). */
  closed: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  logFile?: string;
  /** Extra consumer of stdout/stderr chunks, e.g. echoing with a prefix. */
  onOutput?: (chunk: Buffer) => void;
}

/**
 * Spawns a child whose combined output is kept in memory (and appended to
 * logFile). Resolves once the OS has started it; rejects with the spawn
 * error (ENOENT when the command is not installed).
 * The child stays in our process group, so Ctrl-C in a terminal reaches it too.
 */
export function spawnWithOutput(options: SpawnOptions): Promise<RunningChild> {
  const child = spawn(options.command, options.args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = createOutputTail();
  let logStream: ReturnType<typeof createWriteStream> | undefined;
  if (options.logFile !== undefined) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    logStream = createWriteStream(options.logFile, { flags: "a" });
    logStream.on("error", () => undefined); // a broken log must not crash the parent
  }
  const onChunk = (chunk: Buffer): void => {
    tail.append(chunk);
    logStream?.write(chunk);
    options.onOutput?.(chunk);
  };
  for (const stream of [child.stdout, child.stderr] as (Readable | null)[]) stream?.on("data", onChunk);

  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true;
      resolve(code);
    });
    child.once("error", () => {
      exitedFlag = true;
      resolve(null);
    });
  });
  const closed = new Promise<void>((resolve) => {
    child.once("close", () => {
      logStream?.end();
      resolve();
    });
    child.once("error", () => resolve());
  });

  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      if (child.pid === undefined) return reject(new Error(`${options.command} started without a pid`));
      resolve({ child, pid: child.pid, exited, closed, hasExited: () => exitedFlag, output: tail.text });
    });
  });
}

/** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs; resolves to the exit code. */
export async function stopChild(running: RunningChild, signal: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
  if (running.hasExited()) return running.exited;
  running.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const first = await Promise.race([running.exited, timedOut]);
  clearTimeout(timer);
  if (first === "timeout") running.child.kill("SIGKILL");
  return running.exited;
}

/** SIGKILL without waiting, for process.on('exit'). */
export function killChildNow(running: RunningChild | undefined): void {
  if (running !== undefined && !running.hasExited()) running.child.kill("SIGKILL");
}

/**
 * Gives a just-exited child a moment to flush its pipes, so error messages
 * show its last words. Bounded: a grandchild may hold the pipes open.
 */
export async function settledOutput(running: RunningChild, waitMs = 200): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([running.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  return running.output();
}
