import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFreePort } from "./free-port.js";
import { startNodeService } from "./node-service.js";
import { stopAll } from "./registry.js";

// A tiny service: logs, becomes ready after READY_DELAY_MS, exits 7 on SIGTERM.
const SERVICE_SOURCE = `
import { createServer } from "node:http";
let ready = false;
setTimeout(() => { ready = true; }, Number(process.env.READY_DELAY_MS ?? 0));
createServer((req, res) => { res.statusCode = ready ? 200 : 503; res.end(); })
  .listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening on " + process.env.PORT));
console.error("secret visible: " + String(process.env.LEAKED_SECRET));
process.on("SIGTERM", () => { console.log("draining"); process.exit(7); });
`;

describe("startNodeService", () => {
  let dir: string;
  let entry: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "local-services-node-"));
    entry = join(dir, "service.mjs");
    await writeFile(entry, SERVICE_SOURCE);
    await writeFile(join(dir, "crash.mjs"), `console.error("config invalid: REDIS_URL missing"); process.exit(3);`);
    await writeFile(join(dir, "idle.mjs"), `setInterval(() => {}, 1000);`);
  });
  afterAll(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("waits for readiness, captures output, and returns the exit code of a SIGTERM stop", async () => {
    const port = await getFreePort();
    process.env.LEAKED_SECRET = "from-parent";
    const logFile = join(dir, "logs", "api.log");
    const service = await startNodeService({
      name: "api",
      entry,
      env: { PORT: String(port), READY_DELAY_MS: "300" },
      readyUrl: `http://127.0.0.1:${port}/`,
      logFile,
    });
    delete process.env.LEAKED_SECRET;
    expect(service.pid).toBeGreaterThan(0);
    expect(service.output()).toContain(`listening on ${port}`);
    expect(service.output()).toContain("secret visible: undefined"); // only PATH and HOME are inherited
    expect(await service.stop()).toBe(7);
    expect(await service.exited).toBe(7);
    expect(service.output()).toContain("draining");
    expect(await readFile(logFile, "utf8")).toContain("draining");
  });

  it("starts an app with the Node flags its package.json declares", async () => {
    const app = join(dir, "flagged-app");
    await mkdir(join(app, "dist"), { recursive: true });
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "flagged", nodeFlags: ["--max-semi-space-size=4", "--stack-trace-limit=7"] }));
    await writeFile(join(app, "dist", "main.mjs"), `console.log("flags " + process.execArgv.join(" ")); console.log("limit " + Error.stackTraceLimit);`);
    const service = await startNodeService({ name: "worker", entry: join(app, "dist", "main.mjs"), env: {} });
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain("flags --max-semi-space-size=4 --stack-trace-limit=7");
    expect(service.output()).toContain("limit 7");
  });

  it("refuses an app whose nodeFlags are not plain flags", async () => {
    const app = join(dir, "badly-flagged-app");
    await mkdir(app, { recursive: true });
    await writeFile(join(app, "package.json"), JSON.stringify({ nodeFlags: ["--eval=1 2"] }));
    await writeFile(join(app, "main.mjs"), "");
    await expect(startNodeService({ name: "worker", entry: join(app, "main.mjs"), env: {} })).rejects.toThrow(/nodeFlags must be a list of flags/);
  });

  it("echoes prefixed lines when asked", async () => {
    const port = await getFreePort();
    const written: string[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((text: string) => written.push(text) > 0) as typeof process.stdout.write;
    try {
      const service = await startNodeService({ name: "worker", entry, env: { PORT: String(port) }, readyUrl: `http://127.0.0.1:${port}/`, echo: true });
      await service.stop();
    } finally {
      process.stdout.write = originalWrite;
    }
    expect(written.join("")).toContain(`[worker] listening on ${port}\n`);
  });

  it("fails with the child's output when it exits before becoming ready", async () => {
    const port = await getFreePort();
    await expect(
      startNodeService({ name: "api", entry: join(dir, "crash.mjs"), env: {}, readyUrl: `http://127.0.0.1:${port}/` }),
    ).rejects.toThrow(/api exited with code 3 before .* was ready[\s\S]*REDIS_URL missing/);
  });

  it("fails after readyTimeoutMs and does not leave the child running", async () => {
    const port = await getFreePort();
    const startedAtMs = Date.now();
    await expect(
      startNodeService({ name: "idle", entry: join(dir, "idle.mjs"), env: {}, readyUrl: `http://127.0.0.1:${port}/`, readyTimeoutMs: 300 }),
    ).rejects.toThrow(/idle was not ready at .* within 300 ms/);
    expect(Date.now() - startedAtMs).toBeLessThan(2_000);
  });

  it("kill() ends a child that ignores SIGTERM; stop() escalates after its timeout", async () => {
    const stubborn = join(dir, "stubborn.mjs");
    await writeFile(stubborn, `process.on("SIGTERM", () => console.log("ignoring")); setInterval(() => {}, 1000); console.log("up");`);
    const first = await startNodeService({ name: "a", entry: stubborn, env: {} });
    await first.kill();
    expect(await first.exited).toBeNull();
    const second = await startNodeService({ name: "b", entry: stubborn, env: {} });
    await new Promise((resolve) => setTimeout(resolve, 200)); // let it install the handler
    expect(await second.stop("SIGTERM", 300)).toBeNull();
    expect(second.output()).toContain("ignoring");
  });
});
