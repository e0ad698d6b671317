import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Spares kept ready, and the level at which more are made. */
const SPARE_TARGET = 64;
const REFILL_BELOW = SPARE_TARGET / 2;
/**
 * Spares made per turn of the event loop, and the most time one turn may
 * spend on them. They are made synchronously: on the development VM an
 * `open` through the thread pool cost 62 µs of CPU against 8 µs in place
 * (the pool's hand-offs, not the filesystem), so a spare made in the pool
 * cost far more than the file creation it saved. Made here, between
 * events, a spare costs what creating the file in place would have, and no
 * caller waits on it; a slice stops early when the disk is slow.
 */
const SLICE_FILES = 4;
const SLICE_BUDGET_MS = 0.5;
/** After a failed refill (a full disk, a read-only folder), writes go direct for this long before asking again. */
const RETRY_AFTER_MS = 1000;
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
   * Makes no more spares and removes this process's, so a clean shutdown
   * leaves none behind and the folder can be removed right after. Later
   * writes go direct.
   */
  close(): Promise<void>;
}

/**
 * Empty files made ahead of time in `dir`, for writes to fill and rename
 * into place. On some filesystems creating a file is most of a small
 * write's cost (on the development VM's ext4, for a while after large
 * deletions: 0.12–0.3 ms to create one, against 13 µs to open a spare,
 * write it and rename it), so creation moves off the caller's path to
 * between events, refilled as spares are used. The rename also makes a
 * file appear whole. `dir` must be on the same filesystem as the paths
 * filled (a rename cannot cross filesystems: that write then falls back).
 * Spares are named by this process, and it uses only its own, so processes
 * sharing `dir` never take each other's; ones an hour old that are not its
 * own are removed, at its first refill and hourly after.
 */
export function createSpareFiles(dir: string, options: { now?: () => number } = {}): SpareFiles {
  const now = options.now ?? Date.now;
  const ready: string[] = [];
  const owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  let refillQueued = false;
  let closed = false;
  let dirMade = false;
  let retryAtMs = 0;
  let sweptAtMs: number | undefined;

  async function sweepAbandoned(): Promise<void> {
    const nowMs = now();
    for (const name of await readdir(dir)) {
      if (name.startsWith(owner)) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && nowMs - info.mtimeMs > ABANDONED_AFTER_MS) await unlink(path).catch(() => {});
    }
  }

  function makeOne(): void {
    const path = join(dir, `${owner}-${randomUUID()}`);
    closeSync(openSync(path, "wx"));
    ready.push(path);
  }

  function refillSlice(): void {
    refillQueued = false;
    if (closed) return;
    const startedAt = performance.now();
    try {
      if (!dirMade) {
        mkdirSync(dir, { recursive: true });
        dirMade = true;
      }
      // At the first refill, then hourly: a process that restarts often leaves no pile behind.
      if (sweptAtMs === undefined || now() - sweptAtMs > ABANDONED_AFTER_MS) {
        sweptAtMs = now();
        void sweepAbandoned().catch(() => {});
      }
      for (let made = 0; made < SLICE_FILES && ready.length < SPARE_TARGET && performance.now() - startedAt < SLICE_BUDGET_MS; made++) makeOne();
    } catch {
      // No spares for now (a full disk, a read-only folder, the folder removed): writes
      // go direct; the folder is made again at the next refill.
      dirMade = false;
      retryAtMs = now() + RETRY_AFTER_MS;
      return;
    }
    if (ready.length < SPARE_TARGET) refill();
  }

  function refill(): void {
    if (refillQueued || closed || now() < retryAtMs) return;
    refillQueued = true;
    setImmediate(refillSlice);
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
      await Promise.all(ready.splice(0).map((path) => unlink(path).catch(() => {})));
    },
  };
}
