// CPU time per process from /proc, so a run can say which process was busy
// while the service answered (Linux only; elsewhere the figures are empty).
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
// USER_HZ: /proc/<pid>/stat counts CPU time in these ticks; 100 on every common Linux ABI.
const DEFAULT_CLOCK_TICKS_PER_SECOND = 100;

export type CpuSeconds = Record<string, number>;

async function clockTicksPerSecond(): Promise<number> {
  try {
    const { stdout } = await run("getconf", ["CLK_TCK"]);
    const ticks = Number(stdout.trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : DEFAULT_CLOCK_TICKS_PER_SECOND;
  } catch {
    return DEFAULT_CLOCK_TICKS_PER_SECOND;
  }
}

const ticksPerSecond = clockTicksPerSecond();

/** User + system CPU seconds of one process; undefined when /proc has no such process. */
async function processCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utimeTicks = Number(fields[11]);
    const stimeTicks = Number(fields[12]);
    return (utimeTicks + stimeTicks) / (await ticksPerSecond);
  } catch {
    return undefined;
  }
}

/** CPU seconds so far of each role's process, plus this bench process as "bench". */
export async function cpuSnapshot(pids: Record<string, number>): Promise<CpuSeconds> {
  const usage = process.cpuUsage();
  const snapshot: CpuSeconds = { bench: (usage.user + usage.system) / 1e6 };
  for (const [role, pid] of Object.entries(pids)) {
    const seconds = await processCpuSeconds(pid);
    if (seconds !== undefined) snapshot[role] = seconds;
  }
  return snapshot;
}

export function cpuDelta(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  const delta: CpuSeconds = {};
  for (const [role, seconds] of Object.entries(after)) {
    if (before[role] !== undefined) delta[role] = seconds - before[role];
  }
  return delta;
}

/** Resident memory in MB per role, for the report's machine section. */
export async function rssMegabytes(pids: Record<string, number>): Promise<Record<string, number>> {
  const result: Record<string, number> = { bench: process.memoryUsage.rss() / 1e6 };
  for (const [role, pid] of Object.entries(pids)) {
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const kilobytes = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
      if (Number.isFinite(kilobytes)) result[role] = kilobytes / 1000;
    } catch {
      // process gone or not Linux: leave it out
    }
  }
  return result;
}

/** Peak resident memory in MB since the process started (VmHWM): no spike between two samples is missed. */
export async function peakRssMegabytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) / 1000;
}

/** The largest peak RSS among processes of one role (e.g. every worker), in MB. */
export async function largestPeakRssMegabytes(pids: readonly number[]): Promise<number> {
  return Math.max(...(await Promise.all(pids.map((pid) => peakRssMegabytes(pid)))));
}

/** The redis-server listening on `port`: it names itself "redis-server 127.0.0.1:<port>". */
export async function findRedisPid(port: number): Promise<number | undefined> {
  try {
    const { stdout } = await run("ps", ["-eo", "pid=,args="]);
    const line = stdout.split("\n").find((row) => row.includes("redis-server") && row.includes(`:${port}`));
    const pid = Number(line?.trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
