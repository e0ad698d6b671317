import { describe, expect, it } from "vitest";
import { queuePrefix } from "./queues/prefix.js";
import { recordKeys, workspaceKeys } from "./redis-keys.js";

/** The part of a key Redis Cluster hashes: the first `{…}` with something inside, else the whole key. */
function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  const close = open === -1 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

const workspaces = workspaceKeys("imagegen");
const records = recordKeys("imagegen");

describe("Redis key layout on a cluster", () => {
  it("keeps the keys one script or transaction touches in one slot", () => {
    // The admission script: every counter and in-flight set of a workspace and its keys.
    const admission = [
      workspaces.rateCounter("acme", "workspace", "requests", "minute"),
      workspaces.rateCounter("acme", "key:k1", "images", "2026-12-01"),
      workspaces.inFlight("acme", "workspace"),
      workspaces.inFlight("acme", "key:k1"),
    ];
    expect(new Set(admission.map(hashTagOf))).toEqual(new Set(["acme"]));
    // A batch line's outcome is recorded and counted in one step.
    expect(hashTagOf(records.batch("batch_1"))).toBe(hashTagOf(records.batchResults("batch_1")));
    // BullMQ's scripts touch many keys of one queue.
    expect(hashTagOf(`${queuePrefix("imagegen", "generate-image")}:generate-image:wait`)).toBe(
      hashTagOf(`${queuePrefix("imagegen", "generate-image")}:generate-image:prioritized`),
    );
  });

  it("spreads entities over slots instead of tagging the whole deployment", () => {
    const tags = [
      workspaces.workspace("acme"),
      workspaces.workspace("globex"),
      workspaces.apiKey("k1"),
      records.generation("gen_1"),
      records.generation("gen_2"),
      records.batch("batch_1"),
      records.file("file-1"),
      records.idempotency("acme", "d1"),
      `${queuePrefix("imagegen", "generate-image")}:generate-image:wait`,
      `${queuePrefix("imagegen", "batches")}:batches:wait`,
    ].map(hashTagOf);
    expect(new Set(tags).size).toBe(tags.length);
  });
});
