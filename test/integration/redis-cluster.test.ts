import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImageBatch, fileLines, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";

/**
 * The whole service on a real 3-master Redis Cluster (redis-server in
 * cluster mode, created with redis-cli --cluster create): two API replicas
 * and two workers, every Redis role on the cluster client.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const ADMIN_TOKEN = `admin-${randomBytes(24).toString("hex")}`;
let stack: PrivateStack;
let secondApi: string;

beforeAll(async () => {
  stack = await startPrivateStack({ simulator: { latencyMs: 30 }, redisCluster: true, adminToken: ADMIN_TOKEN });
  await Promise.all([stack.startWorker(), stack.startWorker()]);
  secondApi = (await stack.startApi()).url;
}, 120_000);
afterAll(() => stack?.stop());

/** 200, or the status of the API error the call ended with (and its message, where asked). */
async function outcomeOf(call: Promise<unknown>, withMessage = false): Promise<number | string> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return withMessage ? `${error.status} ${error.message}` : (error.status ?? 0);
  }
}

const client = (apiUrl: string, apiKey = stack.apiKey) => new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${stack.apiUrl}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return (await response.json()) as Record<string, any>;
}

describe("on a Redis Cluster", () => {
  it("serves synchronous calls through either API replica", async () => {
    for (const apiUrl of [stack.apiUrl, secondApi]) {
      const result = await client(apiUrl).images.generate({ model: "private-model", prompt: "cluster sync", size: "256x256", n: 2, response_format: "b64_json" });
      expect(result.data).toHaveLength(2);
    }
  });

  it("runs async jobs and batches, with exact counts", async () => {
    const created = await fetch(`${stack.apiUrl}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ model: "private-model", prompt: "cluster async", size: "256x256" }),
    });
    expect(created.status).toBe(202);
    const job = (await created.json()) as { id: string };
    await expect
      .poll(async () => ((await (await fetch(`${secondApi}/v1/images/generations/${job.id}`, { headers: { authorization: `Bearer ${stack.apiKey}` } })).json()) as { status: string }).status, {
        timeout: 20_000,
      })
      .toBe("succeeded");
    // The workspace's history (one script in the workspace's slot) lists both the async job and the synchronous calls.
    const listed = (await (await fetch(`${secondApi}/v1/images/generations?limit=100`, { headers: { authorization: `Bearer ${stack.apiKey}` } })).json()) as {
      data: Array<{ id: string; prompt?: string; status: string }>;
    };
    expect(listed.data[0]).toMatchObject({ id: job.id, prompt: "cluster async", status: "succeeded" });
    expect(listed.data.filter((entry) => entry.prompt === "cluster sync")).toHaveLength(2);

    const openai = client(secondApi);
    const lines = Array.from({ length: 12 }, (_, index) => imageLine(`line-${index}`, { model: "private-model", prompt: `cluster batch ${index}`, size: "256x256" }));
    const batch = await createImageBatch(openai, (await uploadBatchFile(openai, lines)).id);
    const ended = await waitForBatch(openai, batch.id);
    expect(ended.status).toBe("completed");
    expect(ended.request_counts).toMatchObject({ total: 12, completed: 12, failed: 0 });
    expect((await fileLines(openai, ended.output_file_id!)).map((line) => line.custom_id).sort()).toEqual(lines.map((_, index) => `line-${index}`).sort());
  });

  it("shares a workspace's rate limit across replicas and sees a revocation on both", async () => {
    const workspace = `cluster-${randomBytes(3).toString("hex")}`;
    await admin("POST", "/workspaces", { id: workspace, limits: { requests_per_minute: 3 } });
    const key = await admin("POST", `/workspaces/${workspace}/keys`, { name: "cluster" });
    const statuses: Array<number | string> = [];
    for (const apiUrl of [stack.apiUrl, secondApi, stack.apiUrl, secondApi]) {
      statuses.push(await outcomeOf(client(apiUrl, key.key as string).models.list()));
    }
    // /v1/models is free; generations are counted: 3 admitted in all, the 4th refused, whichever replica.
    const generated: Array<number | string> = [];
    for (const apiUrl of [stack.apiUrl, secondApi, stack.apiUrl, secondApi]) {
      generated.push(await outcomeOf(client(apiUrl, key.key as string).images.generate({ model: "private-model", prompt: "limited", size: "256x256" })));
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(generated).toEqual([200, 200, 200, 429]);

    await admin("POST", `/keys/${key.id as string}/revoke`);
    for (const apiUrl of [stack.apiUrl, secondApi]) {
      await expect
        .poll(() => outcomeOf(client(apiUrl, key.key as string).models.list()), { timeout: 5000 })
        .toBe(401);
    }
  });

  it("refuses to start, saying what to set, when REDIS_URL points at one node of the cluster", async () => {
    for (const app of ["api", "worker"]) {
      const child = spawn(process.execPath, [join(repoRoot, "apps", app, "dist", "main.js")], {
        env: {
          PATH: process.env.PATH ?? "",
          REDIS_URL: stack.cluster!.masters[0]!.url,
          MODEL_CATALOG_PATH: join(repoRoot, "config/models.yaml"),
          URL_SIGNING_SECRET: randomBytes(32).toString("hex"),
          PORT: "0",
          METRICS_PORT: "0",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, `${app}: ${output}`).toBe(1);
      expect(output).toContain("set REDIS_CLUSTER_NODES");
    }
  });

  it("spreads its keys over more than one master", async () => {
    const counts = await stack.cluster!.keyCounts();
    expect(counts.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
  });

  it("moves the generate-image queue's slots to another master under load without failing a request", async () => {
    const cluster = stack.cluster!;
    const owner = await cluster.ownerOf("imagegen:{generate-image}:generate-image:wait");
    const target = cluster.masters.find((master) => master !== owner)!;
    let stop = false;
    const outcomes: Array<number | string> = [];
    const load = Array.from({ length: 4 }, async (_, lane) => {
      for (let index = 0; !stop; index++) {
        const call = client(lane % 2 === 0 ? stack.apiUrl : secondApi).images.generate({ model: "private-model", prompt: `reshard ${lane}-${index}`, size: "256x256" });
        outcomes.push(await outcomeOf(call, true));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // All of the owner's slots: the queue's keys and every record on it move.
    await cluster.reshard({ from: owner, to: target, slots: 16384 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop = true;
    await Promise.all(load);
    expect(await cluster.ownerOf("imagegen:{generate-image}:generate-image:wait")).toBe(target);
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
  }, 180_000);
});
