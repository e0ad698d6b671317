import { createHash } from "node:crypto";
import type { RedisClient } from "./redis.js";

/**
 * A Lua script sent by its SHA-1 (EVALSHA) and loaded on first use or after a
 * Redis restart (NOSCRIPT), so hot paths do not resend the script text.
 */
export function luaScript(source: string) {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  };
}
