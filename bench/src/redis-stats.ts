// Redis's own account of what a benchmark made it do (INFO commandstats),
// read with redis-cli from the private server the stack started.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const SCRIPT_CALLS = new Set(["evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"]);

export interface CommandCounts {
  /** Lua script calls (EVALSHA, EVAL, FCALL): BullMQ's and the service's. */
  scripts: number;
  /** Every command Redis ran, those inside scripts included. */
  commands: number;
  /** µs Redis spent inside those scripts (their commands' time included). */
  scriptMicros: number;
}

async function redisCli(redisUrl: string, ...args: string[]): Promise<string> {
  const { hostname, port } = new URL(redisUrl);
  return (await run("redis-cli", ["-h", hostname, "-p", port, ...args])).stdout;
}

/** Starts counting from zero (CONFIG RESETSTAT: only on a server the benchmark owns). */
export async function resetCommandCounts(redisUrl: string): Promise<void> {
  await redisCli(redisUrl, "CONFIG", "RESETSTAT");
}

/** What Redis ran since the last reset. */
export async function commandCounts(redisUrl: string): Promise<CommandCounts> {
  const counts: CommandCounts = { scripts: 0, commands: 0, scriptMicros: 0 };
  for (const line of (await redisCli(redisUrl, "INFO", "commandstats")).split("\n")) {
    if (!line.startsWith("cmdstat_")) continue;
    const [name = "", fields = ""] = line.trim().slice("cmdstat_".length).split(":");
    const values = Object.fromEntries(fields.split(",").map((pair) => pair.split("=")));
    const calls = Number(values.calls ?? 0);
    counts.commands += calls;
    if (SCRIPT_CALLS.has(name)) {
      counts.scripts += calls;
      counts.scriptMicros += Number(values.usec ?? 0);
    }
  }
  return counts;
}
