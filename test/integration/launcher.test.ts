import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getFreePort } from "@imagegen/local-services";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, childPids as launcherChildren } from "./support/processes.js";

/**
 * `npm start` under the faults an operator's machine sees: a child killed
 * with SIGKILL must come back by itself, with a line on the terminal, and
 * Ctrl-C must stop whatever runs at that moment.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const apiKey = `sk-launcher-${randomBytes(12).toString("hex")}`;
const dataDir = mkdtempSync(join(tmpdir(), "imagegen-launcher-"));
let launcher: ChildProcess;
let terminal = "";
let apiUrl: string;

/** The launcher's children whose command line contains `marker`. */
const childPids = (marker: string) => launcherChildren(launcher.pid, marker);

const ready = async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status ?? 0;
const generate = () =>
  new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 20_000 }).images.generate({ model: "sim-turbo", prompt: "still here", size: "512x512" });

beforeAll(async () => {
  const port = await getFreePort();
  apiUrl = `http://127.0.0.1:${port}`;
  launcher = spawn(process.execPath, [join(repoRoot, "apps", "local", "dist", "main.js")], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: String(port),
      LOCAL_DATA_DIR: dataDir,
      LOCAL_ECHO_LOGS: "false",
      BOOTSTRAP_API_KEY: apiKey,
      SIM_LATENCY_MS: "20",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  launcher.stdout!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  launcher.stderr!.on("data", (chunk: Buffer) => (terminal += chunk.toString("utf8")));
  const deadline = Date.now() + 60_000;
  while ((await ready()) !== 200) {
    if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`npm start did not become ready:\n${terminal}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 90_000);

afterAll(async () => {
  if (launcher.exitCode === null && launcher.signalCode === null) {
    // A failed test left it running: Ctrl-C first, so it stops its children; then make sure.
    const children = [...childPids("apps/"), ...childPids("redis-server")];
    const exited = new Promise((resolve) => launcher.once("exit", resolve));
    launcher.kill("SIGINT");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    for (const pid of [...children, launcher.pid!].filter(alive)) process.kill(pid, "SIGKILL");
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("npm start heals itself", () => {
  it("restarts a worker killed with SIGKILL and says so", async () => {
    expect((await generate()).data).toHaveLength(1);
    const [worker] = childPids("apps/worker/dist/main.js");
    expect(worker).toBeDefined();
    process.kill(worker!, "SIGKILL");
    await expect.poll(() => terminal, { timeout: 10_000 }).toMatch(/\[launcher\] worker exited \(killed by a signal\); restarting/);
    await expect.poll(() => terminal, { timeout: 20_000 }).toMatch(/\[launcher\] worker restarted/);
    expect(childPids("apps/worker/dist/main.js")).not.toContain(worker);
    await expect.poll(ready, { timeout: 10_000, interval: 250 }).toBe(200);
    expect((await generate()).data).toHaveLength(1);
  }, 60_000);

  it("restarts Redis killed with SIGKILL on its append-only file, and the stack serves again", async () => {
    const [redis] = childPids("redis-server");
    expect(redis).toBeDefined();
    process.kill(redis!, "SIGKILL");
    await expect.poll(() => terminal, { timeout: 10_000 }).toMatch(/\[launcher\] redis exited \(killed by a signal\); restarting/);
    await expect.poll(() => childPids("redis-server").filter((pid) => pid !== redis).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(ready, { timeout: 30_000, interval: 250 }).toBe(200);
    expect((await generate()).data).toHaveLength(1);
  }, 60_000);

  it("stops every process it runs at Ctrl-C, replacements included", async () => {
    const children = [...childPids("apps/"), ...childPids("redis-server")];
    expect(children.length).toBeGreaterThanOrEqual(4);
    const exited = new Promise((resolve) => launcher.once("exit", resolve));
    launcher.kill("SIGINT");
    await exited;
    await expect.poll(() => children.filter(alive), { timeout: 20_000 }).toEqual([]);
  }, 40_000);
});
