import { describe, expect, it } from "vitest";
import { usePrivateStack } from "./support/private-stack.js";

const REQUESTS_PER_MINUTE = 5;

const stack = usePrivateStack({ simulator: {}, apiEnv: { RATE_LIMIT_REQUESTS_PER_MINUTE: String(REQUESTS_PER_MINUTE) } }, 1);

const generate = async (idempotencyKey?: string, prompt = "the same request") => {
  const response = await fetch(`${stack().apiUrl}/v1/images/generations`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stack().apiKey}`,
      "content-type": "application/json",
      ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
    },
    body: JSON.stringify({ model: "private-model", prompt, size: "256x256" }),
  });
  await response.arrayBuffer();
  return { status: response.status, replayed: response.headers.get("idempotent-replayed") === "true" };
};

describe("idempotent replays and the rate limit", () => {
  it("charges the work once, however often the same Idempotency-Key is sent, in a row or at once", async () => {
    const inARow = [];
    for (let attempt = 0; attempt < 7; attempt++) inARow.push(await generate("replayed-in-a-row"));
    expect(inARow.map((reply) => reply.status)).toEqual(Array(7).fill(200));
    expect(inARow.filter((reply) => reply.replayed)).toHaveLength(6);

    const atOnce = await Promise.all(Array.from({ length: 7 }, () => generate("replayed-at-once", "another request")));
    expect(atOnce.map((reply) => reply.status)).toEqual(Array(7).fill(200));
    expect(atOnce.filter((reply) => reply.replayed)).toHaveLength(6);

    // Two requests spent so far: three more fit in the minute, the next is refused.
    const fresh = [];
    for (let attempt = 0; attempt < REQUESTS_PER_MINUTE - 1; attempt++) fresh.push((await generate(undefined, `fresh ${attempt}`)).status);
    expect(fresh).toEqual([200, 200, 200, 429]);
    // A refused request leaves its key unclaimed: the same key works once the minute allows it.
    expect((await generate("refused-first", "refused")).status).toBe(429);
  }, 60_000);
});
