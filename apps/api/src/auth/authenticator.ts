import { ServiceError, type KeyRole, type Limits, type Logger, type ModelCatalog, type WorkspaceRecord } from "@imagegen/shared";
import type { EntitledModels } from "@imagegen/shared";
import { DEFAULT_WORKSPACE, type StaticKeyMatcher } from "./api-keys.js";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { displayPrefix, hashKey, parseMintedKey } from "./key-format.js";
import { checkKey, keyRecordSchema, type KeyRecord } from "../workspaces/key-record.js";
import type { AccessInvalidation, WorkspaceStore } from "../workspaces/store.js";

/** Who is calling: the workspace and key behind a verified Bearer key. */
export interface Principal {
  workspaceId: string;
  /** Public id of the key (minted keys) or `env-…` (keys from the environment); safe to log. */
  keyId: string;
  /** What logs show of the key; never the key itself. */
  keyPrefix: string;
  /** `admin` may manage the workspace's keys and read its usage. */
  role: KeyRole;
  /** The models this workspace may use. */
  catalog: ModelCatalog;
  workspaceLimits: Limits;
  keyLimits: Limits | undefined;
}

interface CacheEntry {
  principal: Principal;
  /** Minted keys: re-checked on every hit, so expiry and rotation grace end on time. */
  record: KeyRecord | undefined;
  cachedAtMs: number;
}

export interface AuthenticatorDeps {
  store: WorkspaceStore;
  staticKeys: StaticKeyMatcher;
  failures: AuthFailureLimiter;
  catalogFor: (models: EntitledModels) => ModelCatalog;
  /** How long a verified key is trusted without asking Redis: the bound on how late a missed revocation is seen. */
  cacheTtlMs: number;
  log: Logger;
  onRefused?: () => void;
  nowMs?: () => number;
}

const TOUCH_INTERVAL_MS = 60_000;
const STAND_IN_RECORD = {
  id: "000000000000",
  workspace_id: "default",
  name: "stand-in",
  secret_hash: "0".repeat(64),
  created_at: "0",
  last_used_at: "0",
};
const MAX_CACHE_ENTRIES = 10_000;

/**
 * Verifies Bearer keys. A key verified recently is served from a per-process
 * cache keyed by the SHA-256 of the whole key, so only the exact key that
 * was verified hits it: a wrong secret for a known key id takes the same
 * path (one Redis read, one constant-time comparison) as an unknown id, and
 * timing does not reveal which ids exist. Revocation and rotation are
 * broadcast (`invalidate`) and drop cached entries at once; the cache's TTL
 * bounds the delay when a broadcast is missed.
 */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const now = deps.nowMs ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const lastTouchMs = new Map<string, number>();

  function touch(keyId: string, nowMs: number): void {
    const last = lastTouchMs.get(keyId) ?? 0;
    if (nowMs - last < TOUCH_INTERVAL_MS) return;
    lastTouchMs.set(keyId, nowMs);
    if (lastTouchMs.size > MAX_CACHE_ENTRIES) lastTouchMs.clear();
    deps.store.touchKey(keyId, Math.floor(nowMs / 1000)).catch((error: unknown) => deps.log.debug({ err: error, keyId }, "could not record key use"));
  }

  function principalOf(workspace: WorkspaceRecord, keyId: string, keyPrefix: string, role: KeyRole, keyLimits: Limits | undefined): Principal {
    return {
      workspaceId: workspace.id,
      keyId,
      keyPrefix,
      role,
      catalog: deps.catalogFor(workspace.models),
      workspaceLimits: workspace.limits,
      keyLimits,
    };
  }

  /** The principal behind a key, asking Redis; undefined when the key opens nothing. */
  async function resolve(minted: { keyId: string } | undefined, presentedHash: Buffer, nowMs: number): Promise<CacheEntry | undefined> {
    if (!minted) {
      const match = deps.staticKeys.match(presentedHash);
      if (!match) return undefined;
      const workspace = await deps.store.getWorkspace(DEFAULT_WORKSPACE);
      if (!workspace) return undefined;
      return { principal: principalOf(workspace, match.keyId, match.keyPrefix, match.role, undefined), record: undefined, cachedAtMs: nowMs };
    }
    let record: KeyRecord | undefined;
    try {
      record = await deps.store.getKey(minted.keyId);
    } catch (error) {
      if (error instanceof Error && error.name === "ZodError") deps.log.error({ keyId: minted.keyId }, "corrupt API key record");
      else throw error;
    }
    // An unknown id parses a stand-in record, so it costs what a known id with a wrong secret costs.
    if (!record) keyRecordSchema.safeParse(STAND_IN_RECORD);
    if (checkKey(record, presentedHash, Math.floor(nowMs / 1000)) !== "valid" || !record) return undefined;
    const workspace = await deps.store.getWorkspace(record.workspace_id);
    if (!workspace) return undefined;
    return { principal: principalOf(workspace, record.id, displayPrefix(record.id), record.role, record.limits), record, cachedAtMs: nowMs };
  }

  function fromCache(presentedHash: Buffer, nowMs: number): Principal | undefined {
    const cacheKey = presentedHash.toString("hex");
    const cached = cache.get(cacheKey);
    if (!cached || nowMs - cached.cachedAtMs >= deps.cacheTtlMs) return undefined;
    if (!cached.record || checkKey(cached.record, presentedHash, Math.floor(nowMs / 1000)) === "valid") {
      if (cached.record) touch(cached.record.id, nowMs);
      return cached.principal;
    }
    cache.delete(cacheKey);
    return undefined;
  }

  function remember(presentedHash: Buffer, entry: CacheEntry, nowMs: number): Principal {
    if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
    cache.set(presentedHash.toString("hex"), entry);
    if (entry.record) touch(entry.record.id, nowMs);
    return entry.principal;
  }

  return {
    /**
     * The principal for a presented key (undefined when the header was
     * missing or malformed). Throws 401 unauthorized for anything that does
     * not open a key, and 429 rate_limited for an address with too many
     * recent failures.
     */
    async authenticate(presentedKey: string | undefined, clientAddress: string): Promise<Principal> {
      if (presentedKey === undefined) throw new ServiceError("unauthorized");
      const nowMs = now();
      const presentedHash = hashKey(presentedKey);
      const cached = fromCache(presentedHash, nowMs);
      if (cached) return cached;

      // The address check runs alongside the lookup: no added latency, and
      // the same work whether or not the key exists.
      let blockedMs: number;
      let entry: CacheEntry | undefined;
      try {
        [blockedMs, entry] = await Promise.all([deps.failures.blockedForMs(clientAddress), resolve(parseMintedKey(presentedKey), presentedHash, nowMs)]);
      } catch (error) {
        throw new ServiceError("service_unavailable", "Authentication is unavailable. Retry with backoff.", { cause: error });
      }
      // Valid credentials always pass: keys are 256-bit, so the limit only
      // spares CPU and Redis from guessers; refusing a valid key behind a
      // shared address would let one client lock out everyone else there.
      if (!entry && blockedMs > 0) {
        deps.onRefused?.();
        throw new ServiceError("rate_limited", "Too many failed authentication attempts from this address.", {
          retryAfterSeconds: Math.ceil(blockedMs / 1000),
        });
      }
      if (!entry) {
        await deps.failures.recordFailure(clientAddress).catch((error: unknown) => deps.log.warn({ err: error }, "could not count a failed authentication"));
        throw new ServiceError("unauthorized");
      }
      return remember(presentedHash, entry, nowMs);
    },

    /**
     * The principal of a key known only by its digest (and its id when
     * minted), as a console session keeps it: verified exactly like a
     * presented key, so revocation, rotation grace and expiry end the session
     * too. Undefined when the key no longer opens anything. Not counted as a
     * failed authentication: nothing was guessed.
     */
    async principalForDigest(mintedKeyId: string | undefined, keyDigest: Buffer): Promise<Principal | undefined> {
      const nowMs = now();
      const cached = fromCache(keyDigest, nowMs);
      if (cached) return cached;
      let entry: CacheEntry | undefined;
      try {
        entry = await resolve(mintedKeyId === undefined ? undefined : { keyId: mintedKeyId }, keyDigest, nowMs);
      } catch (error) {
        throw new ServiceError("service_unavailable", "Authentication is unavailable. Retry with backoff.", { cause: error });
      }
      return entry ? remember(keyDigest, entry, nowMs) : undefined;
    },

    /** Drops cached keys of a revoked or rotated key, or of a changed workspace. */
    invalidate(message: AccessInvalidation): void {
      for (const [cacheKey, entry] of cache) {
        const id = message.kind === "key" ? entry.principal.keyId : entry.principal.workspaceId;
        if (id === message.id) cache.delete(cacheKey);
      }
    },

    /** Forgets every cached key (e.g. after missing broadcasts while disconnected). */
    clear(): void {
      cache.clear();
    },
  };
}
export type Authenticator = ReturnType<typeof createAuthenticator>;
