import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLauncher, type Launched } from "./support/launcher.js";
import { alive, childPids as launcherChildren } from "./support/processes.js";

/**
 * `npm start` under the faults an operator's machine sees: a child killed
 * with SIGKILL must come back by itself, with a line on the terminal, and
 * Ctrl-C must stop whatever runs at that moment.
 */
const apiKey = `sk-launcher-${randomBytes(12).toString("hex")}`;
const dataDir = mkdtempSync(join(tmpdir(), "imagegen-launcher-"));
let launched: Launched;

/** The launcher's children whose command line contains `marker`. */
const childPids = (marker: string) => launcherChildren(launched.process.pid, marker);
const terminal = () => launched.terminal();

const ready = async () => (await fetch(`${launched.apiUrl}/readyz`).catch(() => undefined))?.status ?? 0;
const generate = () =>
  new OpenAI({ baseURL: `${launched.apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 20_000 }).images.generate({ model: "sim-turbo", prompt: "still here", size: "512x512" });

beforeAll(async () => {
  launched = await startLauncher({ LOCAL_DATA_DIR: dataDir, BOOTSTRAP_API_KEY: apiKey, SIM_LATENCY_MS: "20" });
}, 90_000);

afterAll(async () => {
  await launched?.stopIfRunning();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("npm start heals itself", () => {
  it("restarts a worker killed with SIGKILL and says so", async () => {
    expect((await generate()).data).toHaveLength(1);
    const [worker] = childPids("apps/worker/dist/main.js");
    expect(worker).toBeDefined();
    process.kill(worker!, "SIGKILL");
    await expect.poll(terminal, { timeout: 10_000 }).toMatch(/\[launcher\] worker exited \(killed by a signal\); restarting/);
    await expect.poll(terminal, { timeout: 20_000 }).toMatch(/\[launcher\] worker restarted/);
    expect(childPids("apps/worker/dist/main.js")).not.toContain(worker);
    await expect.poll(ready, { timeout: 10_000, interval: 250 }).toBe(200);
    expect((await generate()).data).toHaveLength(1);
  }, 60_000);

  it("restarts Redis killed with SIGKILL on its append-only file, and the stack serves again", async () => {
    const [redis] = childPids("redis-server");
    expect(redis).toBeDefined();
    process.kill(redis!, "SIGKILL");
    await expect.poll(terminal, { timeout: 10_000 }).toMatch(/\[launcher\] redis exited \(killed by a signal\); restarting/);
    await expect.poll(() => childPids("redis-server").filter((pid) => pid !== redis).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(ready, { timeout: 30_000, interval: 250 }).toBe(200);
    expect((await generate()).data).toHaveLength(1);
  }, 60_000);

  it("stops every process it runs at Ctrl-C, replacements included", async () => {
    const children = [...childPids("apps/"), ...childPids("redis-server")];
    expect(children.length).toBeGreaterThanOrEqual(4);
    const exited = new Promise((resolve) => launched.process.once("exit", resolve));
    launched.process.kill("SIGINT");
    await exited;
    await expect.poll(() => children.filter(alive), { timeout: 20_000 }).toEqual([]);
  }, 40_000);
});
