import { createHash } from "node:crypto";
import type { RedisClient } from "../redis.js";
import { ServiceError } from "../errors/service-error.js";
import { luaScript } from "../lua-script.js";
import { recordKeys } from "../redis-keys.js";

/** How long an Idempotency-Key is remembered (as Stripe and OpenAI do: a day). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const digest = (value: string | Buffer) => createHash("sha256").update(value).digest("hex");

/**
 * `Idempotency-Key` on a POST that creates work: the first request with a key
 * claims it for the id of the work it creates; a retry with the same key and
 * the same body gets that id back instead of creating new work; the same key
 * with another body is refused.
 */
/** Deletes a claim only if it still names the given work, so a later claim by another request is never undone. */
const RELEASE = luaScript(`
local record = redis.call('GET', KEYS[1])
if record and cjson.decode(record).resourceId == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export function createIdempotency(redis: RedisClient, prefix: string) {
  const keys = recordKeys(prefix);
  return {
    /**
     * Claims `key` for `resourceId`, or returns the id that an earlier request
     * with the same key and body created.
     */
    async claim(workspace: string, key: string, body: string | Buffer, resourceId: string): Promise<{ replayOf?: string }> {
      if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
        throw new ServiceError("invalid_payload", "Idempotency-Key must be 1-255 visible ASCII characters.", { param: "Idempotency-Key" });
      }
      const record = JSON.stringify({ resourceId, bodyDigest: digest(body) });
      const redisKey = keys.idempotency(workspace, digest(key));
      const claimed = await redis.set(redisKey, record, "EX", IDEMPOTENCY_TTL_SECONDS, "NX");
      if (claimed === "OK") return {};
      const existing = JSON.parse((await redis.get(redisKey)) ?? "null") as { resourceId: string; bodyDigest: string } | null;
      if (!existing) return this.claim(workspace, key, body, resourceId);
      if (existing.bodyDigest !== digest(body)) {
        throw new ServiceError("invalid_payload", "This Idempotency-Key was already used with a different request body.", {
          param: "Idempotency-Key",
        });
      }
      return { replayOf: existing.resourceId };
    },

    /** Gives a key back when the work it was claimed for was refused (rate limit), so a later retry is new work, not a replay of nothing. */
    async release(workspace: string, key: string, resourceId: string): Promise<void> {
      await RELEASE(redis, [keys.idempotency(workspace, digest(key))], [resourceId]);
    },
  };
}
export type Idempotency = ReturnType<typeof createIdempotency>;
