import { useScratchRedis } from "@imagegen/local-services/testing";
import { createModelCatalog, modelCardSchema, workspaceKeys, type ModelHealthReport } from "@imagegen/shared";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelHealthReader } from "./reader.js";

let redis: Redis;
let prefixCounter = 0;
const NOW = 1_800_000_000_000;

const scratch = useScratchRedis("api-model-health");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

const card = (id: string) => modelCardSchema.parse({ id, sizes: ["256x256"], upstreams: [{ name: `${id}-gpu`, protocol: "openai", base_url: "http://127.0.0.1:1" }] });
const catalog = createModelCatalog([card("alpha"), card("beta"), card("gamma")]);

async function setup(reports: Record<string, ModelHealthReport | string>) {
  const prefix = `mh${++prefixCounter}`;
  const key = workspaceKeys(prefix).modelHealth();
  for (const [field, report] of Object.entries(reports)) await redis.hset(key, field, typeof report === "string" ? report : JSON.stringify(report));
  return { key, reader: createModelHealthReader({ redis, prefix, nowMs: () => NOW }) };
}

describe("model health as the workers published it", () => {
  it("calls a model healthy when any live worker has one of its upstreams in rotation, unhealthy when live workers have none", async () => {
    const { reader } = await setup({
      "worker-a": { at: NOW - 1000, interval_ms: 5000, models: { alpha: 0, beta: 0 } },
      "worker-b": { at: NOW - 2000, interval_ms: 5000, models: { alpha: 2, beta: 0 } },
    });
    expect(await reader.forCatalog(catalog)).toEqual([
      { object: "model.health", model: "alpha", status: "healthy", healthy_upstreams: 2, reported_at: Math.floor((NOW - 1000) / 1000) },
      { object: "model.health", model: "beta", status: "unhealthy", healthy_upstreams: 0, reported_at: Math.floor((NOW - 1000) / 1000) },
      { object: "model.health", model: "gamma", status: "unknown", healthy_upstreams: 0, reported_at: null },
    ]);
  });

  it("ignores a worker silent for three intervals, and forgets reports an hour old or unreadable", async () => {
    const { key, reader } = await setup({
      stale: { at: NOW - 16_000, interval_ms: 5000, models: { alpha: 1 } },
      ancient: { at: NOW - 3_700_000, interval_ms: 5000, models: { alpha: 1 } },
      garbage: "{not json",
      wrong: JSON.stringify({ at: "yesterday", models: {} }),
    });
    expect((await reader.forCatalog(catalog))[0]).toMatchObject({ model: "alpha", status: "unknown" });
    expect((await redis.hkeys(key)).sort()).toEqual(["stale"]);
  });
});
