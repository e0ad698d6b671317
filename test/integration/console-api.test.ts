import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleStack, type ConsoleStack } from "./support/console-stack.js";

/**
 * What the console needs from the public API, tested on its own through real
 * HTTP: key roles, key management for admin keys, console sessions (cookie
 * flags, CSRF, sign-out, failed sign-ins), usage and model health.
 */
let stack: ConsoleStack;
let addressCounter = 0;
/** A client address of its own per call site (the API trusts X-Forwarded-For from loopback). */
const freshAddress = () => `203.0.113.${++addressCounter}`;

beforeAll(async () => {
  stack = await startConsoleStack("console-api");
});
afterAll(async () => {
  await stack?.stop();
});

async function call(path: string, init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "x-forwarded-for": "198.51.100.1", ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
    redirect: "manual",
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json: json as Record<string, any>, text };
}

async function signIn(apiKey: string, address = freshAddress()) {
  const response = await call("/v1/sessions", { method: "POST", body: { api_key: apiKey }, headers: { "x-forwarded-for": address, origin: stack.apiUrl } });
  const cookie = response.headers.get("set-cookie") ?? "";
  return { response, cookie: cookie.split(";")[0]!, setCookie: cookie, csrf: String(response.json?.csrf_token ?? "") };
}

async function createWorkspace(id: string) {
  const response = await call("/admin/v1/workspaces", { method: "POST", key: stack.adminToken, body: { id } });
  expect(response.status).toBe(201);
  const key = await call(`/admin/v1/workspaces/${id}/keys`, { method: "POST", key: stack.adminToken, body: { name: "owner", role: "admin" } });
  expect(key.status).toBe(201);
  return String(key.json.key);
}

describe("the console's files", () => {
  it("redirects / to /console/ and serves the app with a strict CSP, cached assets and 404 envelopes for missing files", async () => {
    const root = await call("/");
    expect([root.status, root.headers.get("location")]).toEqual([302, "/console/"]);
    const bare = await call("/console");
    expect([bare.status, bare.headers.get("location")]).toEqual([301, "/console/"]);
    for (const path of ["/console/", "/console/jobs/gen_123", "/console/playground?model=console-sdxl"]) {
      const page = await call(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(page.headers.get("content-security-policy")).toBe(
        `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: ${stack.apiUrl}; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
      );
      expect(page.headers.get("x-frame-options")).toBe("DENY");
    }
    const html = (await call("/console/")).text;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await call(asset);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("content-security-policy")).toContain("default-src 'none'");
    const missing = await call("/console/assets/index-nothere.js");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
    expect((await call("/console/favicon.svg")).headers.get("content-type")).toContain("image/svg+xml");
    // Nothing outside the build is reachable through the console's paths.
    for (const path of ["/console/assets/..%2f..%2fpackage.json", "/console/assets/%2e%2e/%2e%2e/index.html", "/console/..%2f..%2fpackage.json"]) {
      const escape = await call(path);
      expect(escape.text, path).not.toContain('"@imagegen/console"');
      expect(escape.status, path).not.toBe(500);
    }
  });
});

describe("key roles", () => {
  it("makes the bootstrap key an admin and keys from API_KEYS members", async () => {
    expect((await call("/v1/keys", { key: stack.adminKey })).status).toBe(200);
    const refused = await call("/v1/keys", { key: stack.memberKey });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "forbidden", type: "permission_error" });
    expect(refused.json.error.message).toContain("admin key");
    expect((await call("/v1/usage", { key: stack.memberKey })).status).toBe(403);
  });

  it("mints member keys unless asked otherwise, and a member cannot mint or revoke", async () => {
    const created = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: { name: "ci" } });
    expect(created.status).toBe(201);
    expect(created.json.role).toBe("member");
    const member = String(created.json.key);
    expect((await call("/v1/keys", { method: "POST", key: member, body: { name: "sneaky", role: "admin" } })).status).toBe(403);
    expect((await call(`/v1/keys/${created.json.id}/revoke`, { method: "POST", key: member })).status).toBe(403);
    // A member still generates and lists models.
    expect((await call("/v1/models", { key: member })).status).toBe(200);
  });
});

describe("key management for admin keys (/v1/keys)", () => {
  it("creates a key that works at once, shows its secret only in that answer, and lists it without one", async () => {
    const created = await call("/v1/keys", {
      method: "POST",
      key: stack.adminKey,
      body: { name: "nightly", expires_in_seconds: 3600, limits: { images_per_day: 50 } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ object: "api_key", name: "nightly", workspace_id: "default", limits: { images_per_day: 50 } });
    expect(created.json.expires_at - created.json.created_at).toBe(3600);
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: String(created.json.key), maxRetries: 0 });
    expect((await client.models.list()).data.map((model) => model.id)).toContain("console-sdxl");

    const listed = await call("/v1/keys", { key: stack.adminKey });
    const entry = listed.json.data.find((key: { id: string }) => key.id === created.json.id);
    expect(entry).toMatchObject({ name: "nightly", role: "member", prefix: `igk_${created.json.id}` });
    expect(listed.text).not.toContain(String(created.json.key));
    expect(listed.text).not.toContain("secret_hash");
  });

  it("rotates with a grace period and revokes at once", async () => {
    const created = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: { name: "rotating" } });
    const oldKey = String(created.json.key);
    const rotated = await call(`/v1/keys/${created.json.id}/rotate`, { method: "POST", key: stack.adminKey, body: { grace_seconds: 600 } });
    expect(rotated.status).toBe(200);
    const newKey = String(rotated.json.key);
    expect(newKey).not.toBe(oldKey);
    expect(rotated.json.previous_secret_expires_at).toBeGreaterThan(Date.now() / 1000 + 500);
    expect((await call("/v1/models", { key: oldKey })).status).toBe(200);
    expect((await call("/v1/models", { key: newKey })).status).toBe(200);

    const revoked = await call(`/v1/keys/${created.json.id}/revoke`, { method: "POST", key: stack.adminKey });
    expect(revoked.json.revoked_at).toBeTypeOf("number");
    for (const key of [oldKey, newKey]) expect((await call("/v1/models", { key, headers: { "x-forwarded-for": freshAddress() } })).status).toBe(401);
  });

  it("cannot see, rotate or revoke another workspace's keys (404, as for an unknown id)", async () => {
    await createWorkspace("console-other");
    const foreign = await call("/admin/v1/workspaces/console-other/keys", { method: "POST", key: stack.adminToken, body: { name: "theirs" } });
    const id = String(foreign.json.id);
    for (const [method, path] of [
      ["GET", `/v1/keys/${id}`],
      ["POST", `/v1/keys/${id}/rotate`],
      ["POST", `/v1/keys/${id}/revoke`],
    ] as const) {
      const response = await call(path, { method, key: stack.adminKey, ...(method === "POST" ? { body: {} } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.json.error.code).toBe("not_found");
    }
    expect((await call("/v1/keys", { key: stack.adminKey })).text).not.toContain(id);
    // And the foreign key still works: nothing was revoked.
    expect((await call("/v1/models", { key: String(foreign.json.key) })).status).toBe(200);
  });

  it("refuses odd ids and bodies with the error envelope, never a 500", async () => {
    for (const id of ["__proto__", "constructor", "..%2f..%2fetc", "x".repeat(300)]) {
      expect((await call(`/v1/keys/${id}`, { key: stack.adminKey })).status).toBe(404);
    }
    const bad = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: { name: "x", role: "owner" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe("role");
    const proto = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: '{"name":"x","__proto__":{"role":"admin"}}' });
    expect(proto.status).toBe(400);
  });
});

describe("console sessions", () => {
  it("signs in with a key: HttpOnly, SameSite=Strict cookie (Secure over TLS), and the session opens the API", async () => {
    const { response, setCookie, cookie } = await signIn(stack.adminKey);
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({ object: "session", workspace_id: "default", role: "admin" });
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(setCookie).toMatch(/^imagegen_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    expect(response.text).not.toContain(stack.adminKey);

    const models = await call("/v1/models", { headers: { cookie } });
    expect(models.status).toBe(200);
    const current = await call("/v1/sessions/current", { headers: { cookie } });
    expect(current.json).toMatchObject({ role: "admin", csrf_token: response.json.csrf_token });

    // Behind a TLS-terminating proxy the API trusts, the cookie is Secure.
    const overTls = await call("/v1/sessions", {
      method: "POST",
      body: { api_key: stack.adminKey },
      headers: { "x-forwarded-proto": "https", origin: stack.apiUrl.replace("http:", "https:") },
    });
    expect(overTls.status).toBe(201);
    expect(overTls.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("refuses state-changing calls without the CSRF token or from another origin (403), and allows them with it", async () => {
    const { cookie, csrf } = await signIn(stack.adminKey);
    const noToken = await call("/v1/keys", { method: "POST", body: { name: "csrf" }, headers: { cookie } });
    expect(noToken.status).toBe(403);
    expect(noToken.json.error).toMatchObject({ code: "forbidden", param: "X-CSRF-Token" });
    const wrongToken = await call("/v1/keys", { method: "POST", body: { name: "csrf" }, headers: { cookie, "x-csrf-token": `${csrf.slice(0, -1)}x` } });
    expect(wrongToken.status).toBe(403);
    const otherOrigin = await call("/v1/keys", { method: "POST", body: { name: "csrf" }, headers: { cookie, "x-csrf-token": csrf, origin: "https://evil.example" } });
    expect(otherOrigin.status).toBe(403);
    const crossSite = await call("/v1/images/generations", {
      method: "POST",
      body: { model: "console-sdxl", prompt: "x" },
      headers: { cookie, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    const signOutWithoutToken = await call("/v1/sessions/current", { method: "DELETE", headers: { cookie } });
    expect(signOutWithoutToken.status).toBe(403);
    // Nothing above created a key.
    expect((await call("/v1/keys", { key: stack.adminKey })).json.data.some((key: { name: string }) => key.name === "csrf")).toBe(false);

    const allowed = await call("/v1/keys", { method: "POST", body: { name: "csrf-ok" }, headers: { cookie, "x-csrf-token": csrf, origin: stack.apiUrl } });
    expect(allowed.status).toBe(201);
  });

  it("answers forged, malformed and oversized session inputs with 401 or 400, never a session", async () => {
    for (const cookie of ["imagegen_session=../../etc", "imagegen_session=", `imagegen_session=${"A".repeat(43)}`, "imagegen_session=__proto__"]) {
      const response = await call("/v1/models", { headers: { cookie } });
      expect(response.status, cookie).toBe(401);
      expect(response.headers.get("set-cookie"), cookie).toContain("Max-Age=0");
    }
    const huge = await call("/v1/sessions", { method: "POST", body: { api_key: "x".repeat(5000) }, headers: { "x-forwarded-for": freshAddress() } });
    expect(huge.status).toBe(400);
    for (const body of ['{"api_key": 42}', "[]", '{"api_key": "sk-x", "extra": 1}', "not json"]) {
      const bad = await call("/v1/sessions", { method: "POST", body, headers: { "x-forwarded-for": freshAddress() } });
      expect(bad.status, body).toBe(400);
      expect(bad.json.error.code).toBe("invalid_payload");
    }
  });

  it("signs out: the session is gone and its cookie cleared", async () => {
    const { cookie, csrf } = await signIn(stack.adminKey);
    const out = await call("/v1/sessions/current", { method: "DELETE", headers: { cookie, "x-csrf-token": csrf, origin: stack.apiUrl } });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    const after = await call("/v1/models", { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("unauthorized");
  });

  it("ends a session when its key is revoked", async () => {
    const created = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: { name: "short-lived" } });
    const { cookie } = await signIn(String(created.json.key));
    expect((await call("/v1/models", { headers: { cookie } })).status).toBe(200);
    await call(`/v1/keys/${created.json.id}/revoke`, { method: "POST", key: stack.adminKey });
    expect((await call("/v1/models", { headers: { cookie } })).status).toBe(401);
  });

  it("answers a wrong key with 401, counts it like a failed API authentication, and takes no forms or foreign origins", async () => {
    const address = freshAddress();
    const wrong = await signIn("sk-not-a-real-key-000000000000", address);
    expect(wrong.response.status).toBe(401);
    expect(wrong.response.headers.get("set-cookie")).toBeNull();
    for (let attempt = 0; attempt < 4; attempt++) await signIn(`sk-wrong-${attempt}-0000000000000000`, address);
    // Five failed sign-ins from the address: further guesses wait, at sign-in and as Bearer keys alike.
    expect((await signIn("sk-wrong-again-0000000000000000", address)).response.status).toBe(429);
    expect((await call("/v1/models", { key: "sk-wrong-bearer-000000000000000", headers: { "x-forwarded-for": address } })).status).toBe(429);

    const form = await call("/v1/sessions", { method: "POST", body: `api_key=${stack.adminKey}`, headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": freshAddress() } });
    expect(form.status).toBe(400);
    const foreign = await call("/v1/sessions", { method: "POST", body: { api_key: stack.adminKey }, headers: { origin: "https://evil.example", "x-forwarded-for": freshAddress() } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("set-cookie")).toBeNull();
  });

  it("keeps a session of one workspace out of another's jobs", async () => {
    const otherKey = await createWorkspace("console-jobs-b");
    const job = await call("/v1/images/generations", {
      method: "POST",
      key: otherKey,
      body: { model: "console-sdxl", prompt: "workspace b's secret lighthouse" },
      headers: { prefer: "respond-async" },
    });
    expect(job.status).toBe(202);
    const { cookie } = await signIn(stack.adminKey);
    const peek = await call(`/v1/images/generations/${job.json.id}`, { headers: { cookie } });
    expect(peek.status).toBe(404);
    const listed = await call("/v1/images/generations?limit=100", { headers: { cookie } });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(String(job.json.id));
    expect(listed.text).not.toContain("workspace b's secret lighthouse");
    const cancel = await call(`/v1/images/generations/${job.json.id}/cancel`, { method: "POST", headers: { cookie } });
    expect(cancel.status).toBe(403);
  });
});

describe("GET /v1/images/generations", () => {
  it("lists every generation of the workspace, synchronous ones included, newest first with what was asked", async () => {
    const key = await createWorkspace("console-list");
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: key, maxRetries: 0 });
    const sync = await client.images.generate({ model: "console-sdxl", prompt: "a sync lighthouse", n: 2, size: "512x512" }).withResponse();
    const syncId = sync.response.headers.get("x-request-id")!;
    await client.images.generate({ model: "console-sdxl", prompt: "bytes inline", response_format: "b64_json" });
    const queued = await call("/v1/images/generations", { method: "POST", key, body: { model: "console-sdxl", prompt: "an async fox" }, headers: { prefer: "respond-async" } });
    expect(queued.status).toBe(202);

    let list = await call("/v1/images/generations", { key });
    for (let attempt = 0; attempt < 50 && list.json.data[0]?.status !== "succeeded"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      list = await call("/v1/images/generations", { key });
    }
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ object: "list", has_more: false, first_id: queued.json.id });
    expect(list.json.data.map((job: { prompt: string }) => job.prompt)).toEqual(["an async fox", "bytes inline", "a sync lighthouse"]);
    const [asyncJob, b64Job, syncJob] = list.json.data;
    expect(asyncJob).toMatchObject({ id: queued.json.id, object: "image.generation.job", kind: "async", status: "succeeded", model: "console-sdxl", n: 1, size: "256x256" });
    expect(syncJob).toMatchObject({ id: syncId, kind: "sync", status: "succeeded", n: 2, size: "512x512" });
    expect(syncJob.data).toHaveLength(2);
    // Listings carry links, never image bytes, whatever the job's response format.
    expect(b64Job.data[0].url).toMatch(/^http/);
    expect(b64Job.data[0].b64_json).toBeUndefined();
    const image = await fetch(syncJob.data[0].url);
    expect(image.headers.get("content-type")).toBe("image/png");

    // A synchronous call is also a job to read by its request id.
    const one = await call(`/v1/images/generations/${syncId}`, { key });
    expect(one.json).toMatchObject({ id: syncId, status: "succeeded", prompt: "a sync lighthouse", n: 2, kind: "sync" });
    expect((await call(`/v1/images/generations/${queued.json.id}`, { key })).json).toMatchObject({ prompt: "an async fox", kind: "async" });
    // Another workspace sees none of it.
    expect((await call("/v1/images/generations", { key: stack.adminKey })).text).not.toContain("a sync lighthouse");
    expect((await call(`/v1/images/generations/${syncId}`, { key: stack.adminKey })).status).toBe(404);
  });

  it("pages with limit and after, says has_more, and keeps the newest GENERATION_HISTORY_PER_WORKSPACE", async () => {
    const key = await createWorkspace("console-pages");
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: key, maxRetries: 0 });
    const ids: string[] = [];
    for (let index = 0; index < 13; index++) {
      const { response } = await client.images.generate({ model: "console-sdxl", prompt: `page ${index}` }).withResponse();
      ids.push(response.headers.get("x-request-id")!);
    }
    const newestFirst = [...ids].reverse();
    let seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await call(`/v1/images/generations?limit=5${after ? `&after=${after}` : ""}`, { key });
      seen = [...seen, ...page.json.data.map((job: { id: string }) => job.id)];
      if (!page.json.has_more) break;
      expect(page.json.data).toHaveLength(5);
      after = page.json.last_id;
    }
    // The limit of this stack is 12: the oldest call left the list (and, having no other record, is gone).
    expect(seen).toEqual(newestFirst.slice(0, 12));
    expect((await call(`/v1/images/generations/${ids[0]}`, { key })).status).toBe(404);

    for (const query of ["limit=0", "limit=101", "limit=ten"]) {
      const bad = await call(`/v1/images/generations?${query}`, { key });
      expect(bad.status, query).toBe(400);
      expect(bad.json.error.param).toBe("limit");
    }
    const unknownCursor = await call("/v1/images/generations?after=req_000000000000000000000000", { key });
    expect(unknownCursor.json).toMatchObject({ data: [], has_more: false });
  });
});

describe("usage and model health", () => {
  it("reports 30 days of images and each limit with what is left", async () => {
    const created = await call("/v1/keys", { method: "POST", key: stack.adminKey, body: { name: "limited-admin", role: "admin", limits: { images_per_day: 10, requests_per_minute: 5 } } });
    const key = String(created.json.key);
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: key, maxRetries: 0 });
    await client.images.generate({ model: "console-sdxl", prompt: "a usage test", n: 3 });
    let usage = await call("/v1/usage", { key });
    // The day's count is written just after the answer: give it a moment.
    for (let attempt = 0; attempt < 20 && usage.json.days.at(-1).images < 3; attempt++) usage = await call("/v1/usage", { key });
    expect(usage.status).toBe(200);
    expect(usage.json.days).toHaveLength(30);
    expect(usage.json.days.at(-1)).toEqual({ date: new Date().toISOString().slice(0, 10), images: expect.any(Number) });
    expect(usage.json.days.at(-1).images).toBeGreaterThanOrEqual(3);
    expect(usage.json.days.slice(0, -1).every((day: { images: number }) => day.images === 0)).toBe(true);
    expect(usage.json.limits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "images_per_day", scope: "key", limit: 10, used: 3, remaining: 7 }),
        expect.objectContaining({ name: "requests_per_minute", scope: "key", limit: 5, used: 1, remaining: 4 }),
      ]),
    );
  });

  it("publishes upstream health from the worker: a live upstream is healthy, a dead one not", async () => {
    let health: Record<string, any> = {};
    for (let attempt = 0; attempt < 50; attempt++) {
      health = (await call("/v1/model-health", { key: stack.memberKey })).json;
      const byModel = Object.fromEntries(health.data.map((entry: { model: string; status: string }) => [entry.model, entry.status]));
      if (byModel["console-sdxl"] === "healthy" && byModel["console-slow"] === "healthy" && byModel["console-down"] === "unhealthy") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(health.data).toEqual([
      expect.objectContaining({ model: "console-sdxl", status: "healthy", healthy_upstreams: 1 }),
      expect.objectContaining({ model: "console-slow", status: "healthy" }),
      expect.objectContaining({ model: "console-down", status: "unhealthy", healthy_upstreams: 0 }),
    ]);
    expect(health.data[0].reported_at).toBeGreaterThan(Date.now() / 1000 - 10);
  });
});

