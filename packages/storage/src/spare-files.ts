import { randomUUID } from "node:crypto";
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir, open, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Spares kept ready, and the level at which more are made. */
const SPARE_TARGET = 64;
const REFILL_BELOW = SPARE_TARGET / 2;
/**
 * Spares made per refill, two at a time, and the pause before the next
 * refill: at most ~640 a second. Making one in the thread pool costs more
 * CPU (~70 µs) than creating the file in place when the filesystem is quick
 * (~15 µs), so under a flood of writes most go direct and the spares cost
 * at most ~2 % of a core; a worker writing a few hundred images a second
 * writes every one into a spare.
 */
const REFILL_BATCH = 32;
const REFILL_PARALLEL = 2;
const REFILL_PAUSE_MS = 50;
/** A spare this old that no live process holds was left by one that died: removed. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

export interface SpareFiles {
  /**
   * Writes `bytes` into a spare and renames it to `path`: true when done,
   * false when no spare was ready or a step failed (the caller then writes
   * `path` itself; nothing is left half-written at `path` either way).
   */
  fillInto(path: string, bytes: Buffer): boolean;
  /**
   * Makes no more spares, waits for a refill under way, and removes this
   * process's spares, so a clean shutdown leaves none behind and the folder
   * can be removed right after. Later writes go direct.
   */
  close(): Promise<void>;
}

/**
 * Empty files made ahead of time in `dir`, for writes to fill and rename
 * into place. On some filesystems creating a file is most of a small
 * write's cost (on the development VM's ext4: 0.16–0.2 ms to create one,
 * against 13 µs to open a spare, write it and rename it), so creation moves
 * off the caller's path into the thread pool, refilled as spares are used.
 * The rename also makes a file appear whole. `dir` must be on the same
 * filesystem as the paths filled (a rename cannot cross filesystems: that
 * write then falls back). Spares are named by this process, and it uses
 * only its own, so processes sharing `dir` never take each other's; ones
 * an hour old that are not its own are removed, at its first refill and
 * hourly after.
 */
export function createSpareFiles(dir: string, options: { now?: () => number } = {}): SpareFiles {
  const now = options.now ?? Date.now;
  const ready: string[] = [];
  const owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  let refilling = false;
  let closed = false;
  let refillUnderWay: Promise<void> = Promise.resolve();
  let sweptAtMs: number | undefined;

  async function makeOne(): Promise<void> {
    const path = join(dir, `${owner}-${randomUUID()}`);
    const handle = await open(path, "wx");
    await handle.close();
    ready.push(path);
  }

  async function sweepAbandoned(): Promise<void> {
    const nowMs = now();
    for (const name of await readdir(dir)) {
      if (name.startsWith(owner)) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && nowMs - info.mtimeMs > ABANDONED_AFTER_MS) await unlink(path).catch(() => {});
    }
  }

  function refill(): void {
    if (refilling || closed) return;
    refilling = true;
    refillUnderWay = makeSpares();
  }

  async function makeSpares(): Promise<void> {
    let failed = false;
    try {
      await mkdir(dir, { recursive: true });
      // At the first refill, then hourly: a process that restarts often leaves no pile behind.
      if (sweptAtMs === undefined || now() - sweptAtMs > ABANDONED_AFTER_MS) {
        sweptAtMs = now();
        void sweepAbandoned().catch(() => {});
      }
      for (let made = 0; made < REFILL_BATCH && ready.length < SPARE_TARGET && !closed; made += REFILL_PARALLEL) {
        await Promise.all(Array.from({ length: REFILL_PARALLEL }, makeOne));
      }
    } catch {
      // No spares for now (a full disk, a read-only folder): writes fall back; a later write asks again.
      failed = true;
    }
    setTimeout(() => {
      refilling = false;
      if (!failed && ready.length < SPARE_TARGET) refill();
    }, REFILL_PAUSE_MS).unref();
  }

  return {
    fillInto(path, bytes) {
      const spare = ready.pop();
      if (ready.length < REFILL_BELOW) refill();
      if (spare === undefined) return false;
      try {
        // "r+": the spare must exist; a missing one is not created here (that is the cost spares avoid).
        writeFileSync(spare, bytes, { flag: "r+" });
        renameSync(spare, path);
        return true;
      } catch {
        try {
          unlinkSync(spare);
        } catch {
          // already gone (someone emptied the folder)
        }
        return false;
      }
    },
    async close() {
      closed = true;
      await refillUnderWay;
      await Promise.all(ready.splice(0).map((path) => unlink(path).catch(() => {})));
    },
  };
}
