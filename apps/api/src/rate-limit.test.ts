import { useScratchRedis } from "@imagegen/local-services/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimiter, type LimitSubject } from "./rate-limit.js";

let redis: Redis;
let prefixCounter = 0;

const scratch = useScratchRedis("api-rate-limit");
beforeAll(() => {
  redis = new Redis(scratch.url);
});
afterAll(() => redis.disconnect());

function limiter(options: { defaultRequestsPerMinute?: number; nowMs?: () => number } = {}) {
  const refusals: string[] = [];
  const instance = createRateLimiter({
    redis,
    prefix: `t${++prefixCounter}`,
    defaultRequestsPerMinute: options.defaultRequestsPerMinute ?? 0,
    onRefused: ({ limit }) => refusals.push(limit),
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });
  return { instance, refusals };
}

const subject = (workspaceLimits: LimitSubject["workspaceLimits"], keyLimits?: LimitSubject["keyLimits"]): LimitSubject => ({
  workspaceId: "acme",
  workspaceLimits,
  keyId: "abcdefghijkl",
  keyLimits,
});
const request = (id: string, images = 1) => ({ requestId: id, images, leaseMs: 30_000 });

describe("rate limits in Redis", () => {
  it("admits exactly M of N parallel requests against a limit of M", async () => {
    const { instance, refusals } = limiter();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => instance.admit(subject({ requests_per_minute: 7 }), request(`r${i}`))));
    expect(outcomes.filter((outcome) => outcome.admitted)).toHaveLength(7);
    expect(refusals).toEqual(Array(13).fill("requests_per_minute"));
    const refused = outcomes.find((outcome) => !outcome.admitted);
    expect(refused?.headers["x-ratelimit-remaining-requests"]).toBe("0");
    expect(refused?.admitted === false && refused.error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("reports remaining requests and images on admitted requests", async () => {
    const { instance } = limiter();
    const admission = await instance.admit(subject({ requests_per_minute: 10, images_per_minute: 8 }), request("a", 3));
    expect(admission.headers).toMatchObject({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "9",
      "x-ratelimit-limit-images": "8",
      "x-ratelimit-remaining-images": "5",
      "x-ratelimit-reset-images": "1m0s",
    });
  });

  it("counts n against images per minute, and a refused request spends nothing", async () => {
    const { instance } = limiter();
    const limits = { requests_per_minute: 100, images_per_minute: 5 };
    expect((await instance.admit(subject(limits), request("a", 4))).admitted).toBe(true);
    const refused = await instance.admit(subject(limits), request("b", 2));
    expect(refused.admitted).toBe(false);
    const next = await instance.admit(subject(limits), request("c", 1));
    expect(next.admitted).toBe(true);
    // Only the two admitted requests were counted.
    expect(next.headers["x-ratelimit-remaining-requests"]).toBe("98");
  });

  it("holds concurrent generations to the limit until a slot is released", async () => {
    const { instance, refusals } = limiter();
    const limits = { concurrent_generations: 2 };
    const first = await instance.admit(subject(limits), request("a"));
    const second = await instance.admit(subject(limits), request("b"));
    expect((await instance.admit(subject(limits), request("c"))).admitted).toBe(false);
    expect(refusals).toEqual(["concurrent_generations"]);
    if (first.admitted) first.release();
    if (first.admitted) first.release(); // idempotent
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await instance.admit(subject(limits), request("d"))).admitted).toBe(true);
    expect(second.admitted).toBe(true);
  });

  it("frees every slot released in one turn, workspace's and key's, before the next turn's request is admitted", async () => {
    const { instance } = limiter();
    const limited = subject({ concurrent_generations: 3 }, { concurrent_generations: 3 });
    const held = await Promise.all(["a", "b", "c"].map((id) => instance.admit(limited, request(id))));
    expect((await instance.admit(limited, request("d"))).admitted).toBe(false);
    for (const admission of held) if (admission.admitted) admission.release();
    // The next request a caller could send is read on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const next = await Promise.all(["e", "f", "g"].map((id) => instance.admit(limited, request(id))));
    expect(next.map((admission) => admission.admitted)).toEqual([true, true, true]);
  });

  it("lets the slots of a crashed replica lapse with their lease", async () => {
    let now = 1_000_000;
    const { instance } = limiter({ nowMs: () => now });
    const limits = { concurrent_generations: 1 };
    expect((await instance.admit(subject(limits), { requestId: "held", images: 1, leaseMs: 5000 })).admitted).toBe(true);
    expect((await instance.admit(subject(limits), request("b"))).admitted).toBe(false);
    now += 5001;
    expect((await instance.admit(subject(limits), request("c"))).admitted).toBe(true);
  });

  it("applies a key's own limits on top of the workspace's", async () => {
    const { instance } = limiter();
    const limited = subject({ requests_per_minute: 100 }, { requests_per_minute: 2 });
    expect((await instance.admit(limited, request("a"))).admitted).toBe(true);
    const second = await instance.admit(limited, request("b"));
    expect(second.headers["x-ratelimit-limit-requests"]).toBe("2");
    expect((await instance.admit(limited, request("c"))).admitted).toBe(false);
    // Another key of the same workspace still has the workspace's budget.
    expect((await instance.admit({ ...limited, keyId: "otherkey0000", keyLimits: undefined }, request("d"))).admitted).toBe(true);
  });

  it("uses the deployment default for workspaces without requests_per_minute, and 0 as unlimited", async () => {
    const { instance } = limiter({ defaultRequestsPerMinute: 1 });
    expect((await instance.admit(subject({}), request("a"))).admitted).toBe(true);
    expect((await instance.admit(subject({}), request("b"))).admitted).toBe(false);
    const unlimited = await instance.admit({ ...subject({ requests_per_minute: 0 }), workspaceId: "other" }, request("c"));
    expect(unlimited).toMatchObject({ admitted: true, headers: {} });
  });

  it("says whether admission checks anything, so a request without limits skips Redis", async () => {
    expect(limiter().instance.appliesTo(subject({}))).toBe(false);
    expect(limiter().instance.appliesTo(subject({ requests_per_minute: 0, concurrent_generations: 0 }))).toBe(false);
    expect(limiter({ defaultRequestsPerMinute: 60 }).instance.appliesTo(subject({}))).toBe(true);
    expect(limiter().instance.appliesTo(subject({}, { concurrent_generations: 2 }))).toBe(true);
    expect(limiter().instance.appliesTo(subject({ images_per_day: 100 }))).toBe(true);
  });

  it("refuses, with a clear message, a request larger than the limit itself", async () => {
    const { instance } = limiter();
    const outcome = await instance.admit(subject({ images_per_minute: 3 }), request("a", 4));
    expect(outcome.admitted).toBe(false);
    if (!outcome.admitted) expect(outcome.error.message).toMatch(/asks for 4 images, more than the limit of 3/);
  });

  it("resets images per day at midnight UTC", async () => {
    let now = Date.UTC(2030, 0, 1, 23, 59, 0);
    const { instance } = limiter({ nowMs: () => now });
    expect((await instance.admit(subject({ images_per_day: 2 }), request("a", 2))).admitted).toBe(true);
    const refused = await instance.admit(subject({ images_per_day: 2 }), request("b"));
    expect(refused.admitted === false && refused.error.retryAfterSeconds).toBe(60);
    now = Date.UTC(2030, 0, 2, 0, 0, 1);
    expect((await instance.admit(subject({ images_per_day: 2 }), request("c"))).admitted).toBe(true);
  });
});

describe("limits for batch dispatchers", () => {
  it("reserves daily images all or nothing, shared with synchronous requests", async () => {
    const { instance } = limiter();
    const limits = { images_per_day: 10 };
    expect((await instance.admit(subject(limits), request("a", 3))).admitted).toBe(true);
    expect(await instance.reserveDailyImages(subject(limits), 5)).toMatchObject({ reserved: true, remaining: 2 });
    const refused = await instance.reserveDailyImages(subject(limits), 3);
    expect(refused).toMatchObject({ reserved: false, remaining: 2 });
    expect(refused.resetMs).toBeGreaterThan(0);
    expect(await instance.reserveDailyImages(subject(limits), 2)).toMatchObject({ reserved: true, remaining: 0 });
    expect(await instance.reserveDailyImages(subject({}), 1000)).toMatchObject({ reserved: true, remaining: undefined });
  });

  it("paces images per minute: takes what fits, otherwise says how long to wait", async () => {
    const { instance } = limiter();
    const limits = { images_per_minute: 4 };
    expect(await instance.paceImages(subject(limits), 3)).toEqual({ waitMs: 0 });
    const wait = await instance.paceImages(subject(limits), 2);
    expect(wait.waitMs).toBeGreaterThan(50_000);
    expect(wait.waitMs).toBeLessThanOrEqual(60_000);
    expect(await instance.paceImages(subject(limits), 1)).toEqual({ waitMs: 0 });
    expect(await instance.paceImages(subject({}), 100)).toEqual({ waitMs: 0 });
  });
});
