import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { request } from "node:http";
import { promisify } from "node:util";
import { getFreePort, startNodeService, type ServiceProcess } from "@imagegen/local-services";
import { GENERATE_IMAGE_QUEUE, queuePrefix } from "@imagegen/shared";
import { Redis } from "ioredis";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { suite } from "./support/context.js";
import { fsServiceEnv } from "./support/service-env.js";

/**
 * Workspaces, keys and limits across two API replicas sharing one Redis (the
 * suite's, under a prefix of our own) and one worker. The replicas trust
 * X-Forwarded-For from loopback, so each test can call from an address of
 * its own and failed authentications in one test never trip another's
 * brute-force limit.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const entry = (app: string, file = "main.js") => join(repoRoot, "apps", app, "dist", file);
const PREFIX = "it-ws";
const ADMIN_TOKEN = `admin-${randomBytes(24).toString("hex")}`;
const ENV_KEY = `sk-ws-env-${randomBytes(16).toString("hex")}`;
const AUTH_FAILURES_PER_MINUTE = 5;
const CACHE_TTL_MS = 2000;

let workDir: string;
let logDir: string;
let catalogPath: string;
const replicas: string[] = [];
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  const { redis, simulators } = suite();
  workDir = mkdtempSync(join(tmpdir(), "imagegen-ws-"));
  // Logs go to our own folder first (the test reads them), then join the suite's in afterAll.
  logDir = join(workDir, "logs");
  mkdirSync(logDir);
  catalogPath = join(workDir, "models.yaml");
  const upstream = (name: string, url: string) =>
    `[{ name: ${name}, protocol: openai, base_url: "${url}", model: sim, max_concurrency: 8, timeout_ms: 10000 }]`;
  writeFileSync(
    catalogPath,
    `models:
  - { id: ws-alpha, sizes: ["256x256"], max_n: 4, upstreams: ${upstream("sim-healthy", simulators.healthy!)} }
  - { id: ws-beta, sizes: ["256x256"], max_n: 4, upstreams: ${upstream("sim-healthy", simulators.healthy!)} }
  - { id: ws-slow, sizes: ["256x256"], upstreams: ${upstream("sim-slow", simulators.slow!)} }
`,
  );
  const common = { ...fsServiceEnv({ redisUrl: redis.url, prefix: PREFIX, catalogPath, workDir }), SHUTDOWN_TIMEOUT_MS: "5000" };
  const workerMetricsPort = await getFreePort();
  processes.push(
    await startNodeService({
      name: "worker-ws",
      entry: entry("worker"),
      env: { ...common, METRICS_PORT: String(workerMetricsPort), METRICS_HOST: "127.0.0.1" },
      readyUrl: `http://127.0.0.1:${workerMetricsPort}/readyz`,
      logFile: join(logDir, "worker-ws.log"),
    }),
  );
  for (const name of ["ws-a", "ws-b"]) {
    const [port, metricsPort] = [await getFreePort(), await getFreePort()];
    const url = `http://127.0.0.1:${port}`;
    processes.push(
      await startNodeService({
        name: `api-${name}`,
        entry: entry("api"),
        env: {
          ...common,
          PORT: String(port),
          HOST: "127.0.0.1",
          PUBLIC_BASE_URL: url,
          METRICS_PORT: String(metricsPort),
          METRICS_HOST: "127.0.0.1",
          API_KEYS: ENV_KEY,
          ADMIN_TOKEN,
          API_KEY_CACHE_TTL_MS: String(CACHE_TTL_MS),
          AUTH_FAILURES_PER_MINUTE: String(AUTH_FAILURES_PER_MINUTE),
          TRUST_PROXY: "loopback",
        },
        readyUrl: `${url}/readyz`,
        logFile: join(logDir, `api-${name}.log`),
      }),
    );
    replicas.push(url);
  }
});

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  mkdirSync(suite().logDir, { recursive: true });
  cpSync(logDir, suite().logDir, { recursive: true });
  rmSync(workDir, { recursive: true, force: true });
});

let addressCounter = 0;
/** A client address of its own (TEST-NET-3), sent as X-Forwarded-For. */
const newAddress = () => `203.0.113.${++addressCounter}`;

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

async function call(replica: number, method: string, path: string, options: { token?: string; body?: unknown; address?: string } = {}): Promise<Reply> {
  const response = await fetch(`${replicas[replica]}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": options.address ?? newAddress(),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

const admin = (method: string, path: string, body?: unknown, replica = 0) => call(replica, method, `/admin/v1${path}`, { token: ADMIN_TOKEN, body });

async function createWorkspace(body: Record<string, unknown>): Promise<string> {
  const id = `${String(body.id ?? "ws")}-${randomBytes(3).toString("hex")}`;
  const reply = await admin("POST", "/workspaces", { ...body, id });
  expect(reply.status).toBe(201);
  return id;
}

async function mintKey(workspace: string, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const reply = await admin("POST", `/workspaces/${workspace}/keys`, { name: "test", ...body });
  expect(reply.status).toBe(201);
  return { id: reply.body.id as string, key: reply.body.key as string };
}

/** Calls until one is admitted and answered with its image (a freed slot), or fails after `timeoutMs`. */
async function untilAdmitted(caller: OpenAI, model: string, timeoutMs: number): Promise<void> {
  await expect
    .poll(
      () =>
        caller.images
          .generate({ model, prompt: "after", size: "256x256" })
          .then((result) => result.data?.length, (error: APIError) => error.status),
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe(1);
}

function client(replica: number, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${replicas[replica]}/v1`, apiKey, maxRetries: 0, timeout: 30_000, defaultHeaders: { "x-forwarded-for": newAddress() } });
}

const models = (replica: number, key: string) => call(replica, "GET", "/v1/models", { token: key });

function cli(...args: string[]): Promise<Record<string, any>> {
  return promisify(execFile)(process.execPath, [entry("api", "cli.js"), ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL: suite().redis.url, QUEUE_PREFIX: PREFIX, MODEL_CATALOG_PATH: catalogPath },
  }).then(({ stdout }) => JSON.parse(stdout) as Record<string, any>);
}

describe("the admin API", () => {
  it("takes the operator token and refuses workspace keys, wrong tokens and no token alike", async () => {
    expect((await admin("GET", "/workspaces")).status).toBe(200);
    const workspace = await createWorkspace({ id: "admin" });
    const { key } = await mintKey(workspace);
    for (const token of [key, ENV_KEY, `${ADMIN_TOKEN}x`, undefined]) {
      const reply = await call(0, "GET", "/admin/v1/workspaces", token === undefined ? {} : { token });
      expect(reply.status).toBe(401);
      expect(reply.body.error).toMatchObject({ code: "unauthorized", type: "authentication_error" });
    }
    // And the operator token opens no workspace.
    expect((await models(0, ADMIN_TOKEN)).status).toBe(401);
  });

  it("creates, lists, updates workspaces and answers duplicates, bad bodies and unknown ids in the error envelope", async () => {
    const id = await createWorkspace({ id: "crud", name: "CRUD", models: ["ws-alpha"], limits: { requests_per_minute: 10 } });
    const created = await admin("GET", `/workspaces/${id}`);
    expect(created.body).toMatchObject({ object: "workspace", id, name: "CRUD", models: ["ws-alpha"], limits: { requests_per_minute: 10 } });
    expect(created.body.webhook_secret).toMatch(/^whsec_/);
    expect(created.body.weight).toBe(1);
    expect((await admin("GET", "/workspaces")).body.data.map((workspace: { id: string }) => workspace.id)).toContain(id);

    const updated = await admin("PATCH", `/workspaces/${id}`, { limits: { images_per_day: 50, requests_per_minute: null }, models: "*" });
    expect(updated.body).toMatchObject({ models: "*", limits: { images_per_day: 50 } });
    expect(updated.body.limits.requests_per_minute).toBeUndefined();
    expect((await admin("PATCH", `/workspaces/${id}`, { weight: 2.5 })).body).toMatchObject({ weight: 2.5, models: "*" });
    for (const weight of [0, -1, 1001, "3"]) {
      const refused = await admin("PATCH", `/workspaces/${id}`, { weight });
      expect([refused.status, refused.body.error.param]).toEqual([400, "weight"]);
    }

    expect((await admin("POST", "/workspaces", { id })).body.error.code).toBe("conflict");
    expect((await admin("POST", "/workspaces", { id })).status).toBe(409);
    const invalid = await admin("POST", "/workspaces", { id: "Bad Id!" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: "invalid_payload", param: "id" });
    expect((await admin("POST", "/workspaces", { id: "x-unknown-model", models: ["nope"] })).body.error.param).toBe("models");
    expect((await admin("GET", "/workspaces/no-such-workspace")).status).toBe(404);
    expect((await admin("POST", "/keys/nosuchkey000/revoke")).status).toBe(404);
  });

  it("shows a minted key once, lists keys with their prefix only, and the default workspace exists with every model", async () => {
    const workspace = await createWorkspace({ id: "listing" });
    const minted = await admin("POST", `/workspaces/${workspace}/keys`, { name: "ci", expires_in_seconds: 3600 });
    expect(minted.body.key).toMatch(/^igk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(minted.body).toMatchObject({ object: "api_key", name: "ci", workspace_id: workspace, prefix: `igk_${minted.body.id}` });
    expect(minted.body.expires_at - minted.body.created_at).toBe(3600);
    const listed = await admin("GET", `/workspaces/${workspace}/keys`);
    expect(listed.body.data).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(minted.body.key.slice(17));
    expect(listed.body.data[0]).toMatchObject({ id: minted.body.id, prefix: `igk_${minted.body.id}`, last_used_at: null });

    expect((await models(1, minted.body.key)).status).toBe(200);
    await expect.poll(async () => (await admin("GET", `/keys/${minted.body.id}`)).body.last_used_at, { timeout: 3000 }).not.toBeNull();

    expect((await admin("GET", "/workspaces/default")).body).toMatchObject({ id: "default", models: "*" });
    expect((await models(0, ENV_KEY)).body.data.map((model: { id: string }) => model.id)).toEqual(["ws-alpha", "ws-beta", "ws-slow"]);
  });

  it("refuses to mint a key that has already expired", async () => {
    const workspace = await createWorkspace({ id: "past" });
    const refused = await admin("POST", `/workspaces/${workspace}/keys`, { name: "late", expires_at: Math.floor(Date.now() / 1000) - 60 });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "invalid_payload", param: "expires_at" });
    // Milliseconds where seconds belong: a key for the next thirty thousand years is a mistake too.
    const inMilliseconds = await admin("POST", `/workspaces/${workspace}/keys`, { name: "ms", expires_at: Date.now() + 3600_000 });
    expect(inMilliseconds.status).toBe(400);
    expect(inMilliseconds.body.error).toMatchObject({ code: "invalid_payload", param: "expires_at" });
    expect((await admin("GET", `/workspaces/${workspace}/keys`)).body.data).toEqual([]);
  });

  it("does not exist on a deployment without ADMIN_TOKEN", async () => {
    const response = await fetch(`${suite().stacks.s3.apiUrl}/admin/v1/workspaces`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(404);
  });
});

describe("workspaces are isolated", () => {
  it("shows and serves only the workspace's models; another model is model_not_found like an unknown one", async () => {
    const alpha = await createWorkspace({ id: "alpha", models: ["ws-alpha"] });
    const { key } = await mintKey(alpha);
    const listed = await models(0, key);
    expect(listed.body.data.map((model: { id: string }) => model.id)).toEqual(["ws-alpha"]);
    expect((await call(1, "GET", "/v1/models/ws-beta", { token: key })).body.error.code).toBe("model_not_found");

    const forbidden = await apiErrorOf(client(1, key).images.generate({ model: "ws-beta", prompt: "p" }));
    const unknown = await apiErrorOf(client(1, key).images.generate({ model: "ws-gamma", prompt: "p" }));
    expect(forbidden.status).toBe(404);
    expect(forbidden.code).toBe("model_not_found");
    expect(forbidden.message.replace("ws-beta", "X")).toBe(unknown.message.replace("ws-gamma", "X"));
    const ok = await client(0, key).images.generate({ model: "ws-alpha", prompt: "allowed", size: "256x256" });
    expect(ok.data).toHaveLength(1);
  });

  it("spends one workspace's budget without touching another's", async () => {
    const spent = await createWorkspace({ id: "spent", limits: { requests_per_minute: 1 } });
    const other = await createWorkspace({ id: "other", limits: { requests_per_minute: 1 } });
    const spentKey = (await mintKey(spent)).key;
    await client(0, spentKey).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256" });
    expect((await apiErrorOf(client(1, spentKey).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256" }))).status).toBe(429);
    const fresh = await client(1, (await mintKey(other)).key).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256" });
    expect(fresh.data).toHaveLength(1);
  });
});

describe("rate limits shared by two replicas", () => {
  it("admits exactly M of N parallel requests spread over both replicas, refuses the rest with 429 and OpenAI's headers, and queues no job for them", async () => {
    const M = 4;
    const N = 12;
    const workspace = await createWorkspace({ id: "shared", limits: { requests_per_minute: M, images_per_minute: 100 } });
    const { key } = await mintKey(workspace);
    const outcomes = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client(i % 2, key)
          .images.generate({ model: "ws-alpha", prompt: `parallel ${i}`, size: "256x256" })
          .withResponse()
          .then(({ response }) => ({ status: 200, headers: response.headers }))
          .catch((error: APIError) => ({ status: error.status, headers: error.headers!, code: error.code })),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 200)).toHaveLength(M);
    const refused = outcomes.filter((outcome) => outcome.status !== 200);
    expect(refused).toHaveLength(N - M);
    for (const outcome of refused) {
      expect(outcome).toMatchObject({ status: 429, code: "rate_limited" });
      expect(Number(outcome.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(outcome.headers.get("x-ratelimit-limit-requests")).toBe(String(M));
      expect(outcome.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(outcome.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+(\.\d+)?s|1m0s|\d+ms)$/);
    }
    const admitted = outcomes.filter((outcome) => outcome.status === 200);
    expect(admitted.map((outcome) => outcome.headers.get("x-ratelimit-remaining-requests")).sort()).toEqual(["0", "1", "2", "3"]);
    expect(admitted[0]!.headers.get("x-ratelimit-limit-images")).toBe("100");

    // A plain call's job is added right behind its admission: a refused one must never reach the queue.
    // Jobs are named by the request id; finished sync jobs stay in BullMQ for an hour.
    const redis = new Redis(suite().redis.url);
    try {
      const jobKey = (outcome: { headers: Headers }) => `${queuePrefix(PREFIX, GENERATE_IMAGE_QUEUE)}:${GENERATE_IMAGE_QUEUE}:${outcome.headers.get("x-request-id")}`;
      expect(await Promise.all(admitted.map((outcome) => redis.exists(jobKey(outcome))))).toEqual(Array(M).fill(1));
      expect(await Promise.all(refused.map((outcome) => redis.exists(jobKey(outcome))))).toEqual(Array(N - M).fill(0));
    } finally {
      redis.disconnect();
    }
  });

  it("counts n against images per minute and says so in the -images headers", async () => {
    const workspace = await createWorkspace({ id: "images", limits: { images_per_minute: 5 } });
    const { key } = await mintKey(workspace);
    const { response } = await client(0, key).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256", n: 3 }).withResponse();
    expect(response.headers.get("x-ratelimit-remaining-images")).toBe("2");
    const refused = await apiErrorOf(client(1, key).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256", n: 3 }));
    expect(refused.status).toBe(429);
    expect(refused.headers?.get("x-ratelimit-limit-images")).toBe("5");
    expect(refused.headers?.get("x-ratelimit-remaining-images")).toBe("2");
    const fits = await client(1, key).images.generate({ model: "ws-alpha", prompt: "p", size: "256x256", n: 2 });
    expect(fits.data).toHaveLength(2);
  });

  it("limits generations in flight across replicas and frees the slot when a caller hangs up", async () => {
    const workspace = await createWorkspace({ id: "inflight", models: ["ws-slow"], limits: { concurrent_generations: 1 } });
    const { key } = await mintKey(workspace);
    const hangUp = new AbortController();
    const first = client(0, key).images.generate({ model: "ws-slow", prompt: "slow", size: "256x256" }, { signal: hangUp.signal }).catch(() => "aborted");
    await new Promise((done) => setTimeout(done, 300));
    const refused = await apiErrorOf(client(1, key).images.generate({ model: "ws-slow", prompt: "second", size: "256x256" }));
    expect(refused.status).toBe(429);
    expect(refused.message).toMatch(/concurrent generations/);
    hangUp.abort();
    expect(await first).toBe("aborted");
    // The aborted request's slot is released when its connection closes, long before its lease (over 3 minutes) ends.
    await untilAdmitted(client(1, key), "ws-slow", 10_000);
  });
});

describe("callers that hang up while their limits are checked", () => {
  it("get their concurrency slot back at once, not when its lease ends minutes later", async () => {
    const workspace = await createWorkspace({ id: "hangups", limits: { concurrent_generations: 1 } });
    const { key } = await mintKey(workspace);
    const body = JSON.stringify({ model: "ws-alpha", prompt: "gone", size: "256x256" });
    const target = new URL(replicas[0]!);
    const address = newAddress();
    // Each caller sends its request and hangs up 0-2 ms later: many land while the API waits on Redis for admission.
    for (let i = 0; i < 60; i++) {
      const call = request({
        host: target.hostname,
        port: target.port,
        path: "/v1/images/generations",
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-forwarded-for": address },
      });
      call.on("error", () => {});
      call.end(body);
      await new Promise((done) => setTimeout(done, i % 3));
      call.destroy();
    }
    await untilAdmitted(client(0, key), "ws-alpha", 5_000);
  });
});

describe("key lifecycle on both replicas", () => {
  it("keeps a rotated key's old secret working for the grace period, then refuses it", async () => {
    const workspace = await createWorkspace({ id: "rotate" });
    const { id, key: oldKey } = await mintKey(workspace);
    expect((await models(1, oldKey)).status).toBe(200); // cached on replica 1
    const rotated = await admin("POST", `/keys/${id}/rotate`, { grace_seconds: 3 });
    expect(rotated.status).toBe(200);
    const newKey = rotated.body.key as string;
    expect(newKey).not.toBe(oldKey);
    expect(newKey.startsWith(`igk_${id}_`)).toBe(true);
    for (const replica of [0, 1]) {
      expect((await models(replica, newKey)).status).toBe(200);
      expect((await models(replica, oldKey)).status).toBe(200);
    }
    const graceEndsMs = rotated.body.previous_secret_expires_at * 1000;
    await new Promise((done) => setTimeout(done, Math.max(0, graceEndsMs - Date.now()) + 100));
    for (const replica of [0, 1]) {
      expect((await models(replica, oldKey)).status).toBe(401);
      expect((await models(replica, newKey)).status).toBe(200);
    }
  });

  it("sees a revocation made with the CLI on both replicas within the documented delay", async () => {
    const created = await cli("keys", "create", "--workspace", "default", "--name", "cli-revoke");
    expect(created.key).toMatch(/^igk_/);
    for (const replica of [0, 1]) expect((await models(replica, created.key)).status).toBe(200);
    const revokedAt = Date.now();
    const revoked = await cli("keys", "revoke", created.id);
    expect(revoked.revoked_at).not.toBeNull();
    const seenAfterMs = await Promise.all(
      [0, 1].map(async (replica) => {
        while ((await models(replica, created.key)).status !== 401) await new Promise((done) => setTimeout(done, 20));
        return Date.now() - revokedAt;
      }),
    );
    for (const delay of seenAfterMs) expect(delay).toBeLessThanOrEqual(CACHE_TTL_MS);
    const listed = await cli("keys", "list", "--workspace", "default");
    expect(listed.data.find((key: { id: string }) => key.id === created.id)?.revoked_at).toEqual(expect.any(Number));
  });

  it("refuses a key from its expiry on, with the same 401 as an unknown key", async () => {
    const workspace = await createWorkspace({ id: "expiry" });
    const { key } = await mintKey(workspace, { expires_in_seconds: 2 });
    expect((await models(0, key)).status).toBe(200);
    await new Promise((done) => setTimeout(done, 3100));
    const expired = await models(1, key);
    const unknown = await models(1, `igk_zzzzzzzzzzzz_${"A".repeat(43)}`);
    const malformed = await models(1, "not-a-key-at-all");
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual(unknown.body);
    expect(malformed.body).toEqual(unknown.body);
    expect((await models(0, key)).status).toBe(401);
  });

  it("limits failed authentications per client address, across replicas, and still lets valid credentials through", async () => {
    const { key } = await mintKey(await createWorkspace({ id: "brute" }));
    const attacker = newAddress();
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++) {
      const guess = `igk_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
      expect((await call(i % 2, "GET", "/v1/models", { token: guess, address: attacker })).status).toBe(401);
    }
    const guess = `igk_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    const blocked = await call(1, "GET", "/v1/models", { token: guess, address: attacker });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe("rate_limited");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await call(0, "GET", "/admin/v1/workspaces", { token: "not-the-admin-token", address: attacker })).status).toBe(429);
    // Valid credentials from the same address are not locked out.
    expect((await call(1, "GET", "/v1/models", { token: key, address: attacker })).status).toBe(200);
    expect((await call(0, "GET", "/admin/v1/workspaces", { token: ADMIN_TOKEN, address: attacker })).status).toBe(200);
    // Other addresses are unaffected.
    expect((await call(1, "GET", "/v1/models", { token: key })).status).toBe(200);
  });

  it("never writes a key to the logs, only its public prefix", async () => {
    const { key } = await mintKey(await createWorkspace({ id: "logs" }));
    await client(0, key).images.generate({ model: "ws-alpha", prompt: "log me", size: "256x256" });
    const secret = key.slice(17);
    for (const file of ["api-ws-a.log", "api-ws-b.log", "worker-ws.log"]) {
      const text = readFileSync(join(logDir, file), "utf8");
      expect(text).not.toContain(secret);
      expect(text).not.toContain(ENV_KEY);
      expect(text).not.toContain(ADMIN_TOKEN);
    }
    await expect.poll(() => readFileSync(join(logDir, "api-ws-a.log"), "utf8"), { timeout: 3000 }).toContain(`"keyPrefix":"${key.slice(0, 16)}"`);
  });
});
