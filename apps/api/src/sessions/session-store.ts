import { createHash, randomBytes } from "node:crypto";
import { keyRoleSchema, parseJsonAs, workspaceKeys, type SessionObject, type RedisClient } from "@imagegen/shared";
import { z } from "zod";

/**
 * Console sessions in Redis, shared by every API replica. The cookie holds a
 * random token; Redis holds only its SHA-256, so a copy of Redis opens no
 * session. A session keeps the digest of the key that signed in (and the
 * key's id when minted), never the key: every request re-verifies that
 * digest like a presented key, so revoking or rotating the key, or its
 * expiry, ends its sessions too.
 */
const storedSessionSchema = z.object({
  workspace_id: z.string(),
  role: keyRoleSchema,
  key_prefix: z.string(),
  /** Minted keys' public id; absent for keys from the environment. */
  minted_key_id: z.string().optional(),
  key_digest: z.string().regex(/^[0-9a-f]{64}$/),
  csrf_token: z.string(),
  created_at: z.number().int(),
  expires_at: z.number().int(),
});
export type StoredSession = z.infer<typeof storedSessionSchema>;

const tokenDigest = (token: string) => createHash("sha256").update(token).digest("hex");
/** Tokens are 32 random bytes in base64url; anything else is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function toSessionObject(session: StoredSession): SessionObject {
  return {
    object: "session",
    workspace_id: session.workspace_id,
    role: session.role,
    key_prefix: session.key_prefix,
    created_at: session.created_at,
    expires_at: session.expires_at,
    csrf_token: session.csrf_token,
  };
}

export function createSessionStore(deps: { redis: RedisClient; prefix: string; ttlSeconds: number; nowSeconds?: () => number }) {
  const keys = workspaceKeys(deps.prefix);
  const now = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  return {
    ttlSeconds: deps.ttlSeconds,

    /** Opens a session; the token goes in the cookie and nowhere else. */
    async create(identity: Omit<StoredSession, "csrf_token" | "created_at" | "expires_at">): Promise<{ token: string; session: StoredSession }> {
      const token = randomBytes(32).toString("base64url");
      const createdAt = now();
      const session: StoredSession = {
        ...identity,
        csrf_token: randomBytes(32).toString("base64url"),
        created_at: createdAt,
        expires_at: createdAt + deps.ttlSeconds,
      };
      await deps.redis.set(keys.consoleSession(tokenDigest(token)), JSON.stringify(session), "EX", deps.ttlSeconds);
      return { token, session };
    },

    /** The live session a cookie names, or undefined (unknown, expired or malformed). */
    async find(token: string): Promise<StoredSession | undefined> {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      const session = parseJsonAs(storedSessionSchema, await deps.redis.get(keys.consoleSession(tokenDigest(token))));
      return session && session.expires_at > now() ? session : undefined;
    },

    async delete(token: string): Promise<void> {
      if (TOKEN_PATTERN.test(token)) await deps.redis.del(keys.consoleSession(tokenDigest(token)));
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
