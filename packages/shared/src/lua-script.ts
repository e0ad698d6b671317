import { createHash } from "node:crypto";
import type { RedisClient } from "./redis.js";

export interface LuaScript {
  /**
   * Sends the script by its SHA-1 (EVALSHA), loading it on first use or
   * after a Redis restart (NOSCRIPT), so hot paths do not resend its text.
   */
  (redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
  /**
   * Sends the script's text (EVAL), which never answers NOSCRIPT: for a
   * script that a command pipelined right behind it depends on, where a
   * retry would run the script after that command instead of before it.
   * Redis still compiles the text once and reuses it.
   */
  withSource(redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

export function luaScript(source: string): LuaScript {
  const sha = createHash("sha1").update(source).digest("hex");
  const withSource = (redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>) => redis.eval(source, keys.length, ...keys, ...args);
  const run = async (redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return withSource(redis, keys, args);
    }
  };
  return Object.assign(run, { withSource });
}
