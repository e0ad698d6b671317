import { useScratchRedis } from "@imagegen/local-services/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordKeys, workspaceKeys } from "../redis-keys.js";
import { createGenerationHistory, utcDay, type GenerationSummary } from "./generation-history.js";

let redis: Redis;
let prefixCounter = 0;
const DAY = "2026-12-01";
const NOW = Date.parse(`${DAY}T12:00:00Z`);

const scratch = useScratchRedis("shared-history");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

function summary(id: string, fields: Partial<GenerationSummary> = {}): GenerationSummary {
  return {
    id,
    workspace: "acme",
    kind: "sync",
    retained: false,
    model: "sdxl",
    prompt: `prompt of ${id}`,
    size: "256x256",
    n: 2,
    response_format: "url",
    status: "succeeded",
    created_at: Math.floor(NOW / 1000),
    ...fields,
  };
}

function history(perWorkspace = 3) {
  const prefix = `h${++prefixCounter}`;
  return { prefix, history: createGenerationHistory(redis, prefix, { perWorkspace }) };
}

describe("a workspace's generation history", () => {
  it("lists newest first by arrival to the millisecond, pages after an id, and says whether more follow", async () => {
    const { history: list } = history(10);
    for (const [index, id] of ["req_a", "req_b", "req_c", "req_d"].entries()) await list.record(summary(id), { createdAtMs: NOW + index, countImages: true, nowMs: NOW });
    const first = await list.page("acme", { limit: 3 });
    expect(first.summaries.map((entry) => entry.id)).toEqual(["req_d", "req_c", "req_b"]);
    expect(first.hasMore).toBe(true);
    const second = await list.page("acme", { limit: 3, after: "req_b" });
    expect([second.summaries.map((entry) => entry.id), second.hasMore]).toEqual([["req_a"], false]);
    expect(await list.page("acme", { limit: 3, after: "req_unknown" })).toEqual({ summaries: [], hasMore: false });
    expect(await list.page("other", { limit: 3 })).toEqual({ summaries: [], hasMore: false });
  });

  it("keeps the newest perWorkspace, dropping older summaries entirely", async () => {
    const { prefix, history: list } = history(3);
    for (const [index, id] of ["req_1", "req_2", "req_3", "req_4", "req_5"].entries()) await list.record(summary(id), { createdAtMs: NOW + index, countImages: false, nowMs: NOW });
    expect((await list.page("acme", { limit: 10 })).summaries.map((entry) => entry.id)).toEqual(["req_5", "req_4", "req_3"]);
    expect(await list.get("acme", "req_1")).toBeUndefined();
    expect(await redis.hlen(recordKeys(prefix).generationSummaries("acme"))).toBe(3);
  });

  it("drops summaries older than the retention when the next one is written", async () => {
    const { history: list } = history(10);
    const eightDaysMs = 8 * 24 * 3600 * 1000;
    await list.record(summary("req_old"), { createdAtMs: NOW - eightDaysMs, countImages: false, nowMs: NOW - eightDaysMs });
    await list.record(summary("req_new"), { createdAtMs: NOW, countImages: false, nowMs: NOW });
    expect((await list.page("acme", { limit: 10 })).summaries.map((entry) => entry.id)).toEqual(["req_new"]);
  });

  it("counts the day's images only when asked, and replaces a summary written again", async () => {
    const { prefix, history: list } = history(10);
    await list.record(summary("gen_x", { kind: "async", retained: true, status: "queued" }), { createdAtMs: NOW, countImages: true, nowMs: NOW });
    await list.record(summary("gen_x", { kind: "async", retained: true, status: "succeeded" }), { createdAtMs: NOW, countImages: false, nowMs: NOW });
    expect(await redis.get(workspaceKeys(prefix).dailyImages("acme", DAY))).toBe("2");
    expect((await list.page("acme", { limit: 10 })).summaries).toEqual([expect.objectContaining({ id: "gen_x", status: "succeeded" })]);
  });

  it("names the UTC day of any time, also going back and forth across midnight", () => {
    const midnight = Date.parse("2026-12-02T00:00:00Z");
    for (const ms of [midnight - 1, midnight, midnight - 1, midnight + 86_399_999, midnight + 86_400_000, 0, -1, midnight - 40 * 86_400_000]) {
      expect(utcDay(ms)).toBe(new Date(ms).toISOString().slice(0, 10));
    }
  });
});
