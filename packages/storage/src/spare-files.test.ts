import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSpareFiles } from "./spare-files.js";

const root = mkdtempSync(join(tmpdir(), "spare-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("spare files", () => {
  it("removes other processes' hour-old spares at the first refill and again an hour later, not in between", async () => {
    const dir = join(root, "sweep");
    const out = join(root, "out");
    mkdirSync(dir);
    mkdirSync(out);
    const leftBehind = (name: string, ageMs: number) => {
      writeFileSync(join(dir, name), "");
      const at = new Date(Date.now() - ageMs);
      utimesSync(join(dir, name), at, at);
    };
    let nowMs = Date.now();
    const spares = createSpareFiles(dir, { now: () => nowMs });
    let written = 0;
    /** Uses enough spares for the next refill to start. */
    const useSpares = async () => {
      for (let i = 0; i < 40; i++) spares.fillInto(join(out, `image-${written++}.png`), Buffer.from("x"));
      await new Promise((resolve) => setTimeout(resolve, 120));
    };

    leftBehind("1-first", 2 * 3600_000);
    await useSpares();
    await expect.poll(() => readdirSync(dir)).not.toContain("1-first");

    leftBehind("2-second", 2 * 3600_000);
    nowMs += 30 * 60_000;
    await useSpares();
    await expect.poll(() => readdirSync(dir).length).toBeGreaterThanOrEqual(40);
    expect(readdirSync(dir)).toContain("2-second");

    nowMs += 31 * 60_000;
    await useSpares();
    await expect.poll(() => readdirSync(dir)).not.toContain("2-second");
    expect(written).toBe(120);
    await spares.close();
  });
});
