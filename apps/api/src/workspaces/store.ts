import { workspaceFields, workspaceKeys, workspaceRecordSchema, type WorkspaceRecord } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import { luaScript } from "@imagegen/shared";
import { keyRecordSchema, type KeyRecord } from "./key-record.js";

/** Writes the hash only if the key is new (HSETNX alone would allow half records). */
const CREATE_IF_ABSENT = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);

/** Sets fields of an existing hash; never creates a half record. */
const UPDATE_IF_PRESENT = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);

/**
 * Rotation in one step: the current secret becomes the previous one (valid
 * until ARGV[2]), ARGV[1] becomes current. Refused for revoked keys.
 */
const ROTATE = luaScript(`
local current = redis.call('HGET', KEYS[1], 'secret_hash')
if not current then return 'missing' end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 'revoked' end
redis.call('HSET', KEYS[1], 'secret_hash', ARGV[1], 'previous_secret_hash', current, 'previous_secret_expires_at', ARGV[2])
return 'rotated'
`);

/** Revocation keeps the first revocation time. */
const REVOKE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revoked_at', ARGV[1])
return 1
`);

function flatten(fields: Record<string, string>): string[] {
  return Object.entries(fields).flat();
}

function keyFields(record: KeyRecord): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    fields[name] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return fields;
}

/**
 * Workspaces and API keys in Redis, the only datastore. Used by the API
 * (verification, admin routes) and by the CLI, so both behave the same.
 */
export function createWorkspaceStore(deps: { redis: RedisClient; prefix: string }) {
  const keys = workspaceKeys(deps.prefix);
  const { redis } = deps;

  /**
   * Creates a record if it is new, then lists it in its index. Two steps,
   * because the record and its index live in different cluster slots (a key
   * is found by its own id, a workspace's keys by the workspace's); an index
   * entry whose record is missing is skipped when listing, and a retried
   * create re-adds a missing index entry.
   */
  async function createIndexed(key: string, fields: Record<string, string>, index: string, id: string): Promise<boolean> {
    const created = (await CREATE_IF_ABSENT(redis, [key], flatten(fields))) === 1;
    if (created || (await redis.exists(key)) === 1) await redis.sadd(index, id);
    return created;
  }

  async function parseAll<T>(ids: string[], read: (id: string) => Promise<T | undefined>): Promise<T[]> {
    const records = await Promise.all(ids.sort().map(read));
    return records.filter((record): record is Awaited<T> & {} => record !== undefined);
  }

  const store = {
    async createWorkspace(record: WorkspaceRecord): Promise<boolean> {
      const fields = workspaceFields(record);
      return createIndexed(keys.workspace(record.id), fields, keys.workspaceIds(), record.id);
    },
    async getWorkspace(workspaceId: string): Promise<WorkspaceRecord | undefined> {
      const fields = await redis.hgetall(keys.workspace(workspaceId));
      return Object.keys(fields).length === 0 ? undefined : workspaceRecordSchema.parse(fields);
    },
    async listWorkspaces(): Promise<WorkspaceRecord[]> {
      return parseAll(await redis.smembers(keys.workspaceIds()), store.getWorkspace);
    },
    async updateWorkspace(workspaceId: string, fields: Record<string, string>): Promise<boolean> {
      if (Object.keys(fields).length === 0) return (await redis.exists(keys.workspace(workspaceId))) === 1;
      return (await UPDATE_IF_PRESENT(redis, [keys.workspace(workspaceId)], flatten(fields))) === 1;
    },
    async createKey(record: KeyRecord): Promise<boolean> {
      return createIndexed(keys.apiKey(record.id), keyFields(record), keys.workspaceKeyIds(record.workspace_id), record.id);
    },
    async getKey(keyId: string): Promise<KeyRecord | undefined> {
      const fields = await redis.hgetall(keys.apiKey(keyId));
      return Object.keys(fields).length === 0 ? undefined : keyRecordSchema.parse(fields);
    },
    async listKeys(workspaceId: string): Promise<KeyRecord[]> {
      return parseAll(await redis.smembers(keys.workspaceKeyIds(workspaceId)), store.getKey);
    },
    async rotateKey(keyId: string, newHashHex: string, previousExpiresAtSeconds: number): Promise<"rotated" | "missing" | "revoked"> {
      return (await ROTATE(redis, [keys.apiKey(keyId)], [newHashHex, previousExpiresAtSeconds])) as "rotated" | "missing" | "revoked";
    },
    async revokeKey(keyId: string, atSeconds: number): Promise<boolean> {
      return (await REVOKE(redis, [keys.apiKey(keyId)], [atSeconds])) === 1;
    },
    /** Best effort: callers throttle it (once a minute per key and process). */
    async touchKey(keyId: string, atSeconds: number): Promise<void> {
      await UPDATE_IF_PRESENT(redis, [keys.apiKey(keyId)], ["last_used_at", String(atSeconds)]);
    },
    /** Tells every API replica to drop cached copies of a key or workspace. */
    async publishInvalidation(message: AccessInvalidation): Promise<void> {
      await redis.publish(keys.invalidations(), JSON.stringify(message));
    },
  };
  return store;
}
export type WorkspaceStore = ReturnType<typeof createWorkspaceStore>;

export type AccessInvalidation = { kind: "key"; id: string } | { kind: "workspace"; id: string };
