import {
  entitledModelsSchema,
  keyRoleSchema,
  limitsSchema,
  parseOrInvalid,
  ServiceError,
  WORKSPACE_ID_PATTERN,
  DEFAULT_WORKSPACE_WEIGHT,
  workspaceWeightSchema,
  type Limits,
  type ModelCatalog,
  type WorkspaceRecord,
} from "@imagegen/shared";
import { newWebhookSecret } from "@imagegen/shared";
import { z } from "zod";
import { KEY_ID_PATTERN, mintKey } from "../auth/key-format.js";
import { publicKeyView, type KeyRecord } from "./key-record.js";
import type { WorkspaceStore } from "./store.js";

/** Further than this, an `expires_at` is almost surely milliseconds given as seconds. */
const MAX_KEY_LIFETIME_SECONDS = 100 * 365 * 24 * 3600;

/**
 * What operators can do to workspaces and keys: the one implementation behind
 * both the admin HTTP API and the CLI. Takes unparsed JSON bodies, validates
 * them with zod, and returns plain JSON-ready objects.
 */

const MAX_GRACE_SECONDS = 30 * 24 * 3600;

/** A limits patch: a number sets a limit (0 = unlimited), null removes it (back to the default). */
const limitsPatchSchema = z.strictObject(
  Object.fromEntries(Object.keys(limitsSchema.shape).map((name) => [name, z.number().int().min(0).nullable().optional()])) as Record<
    keyof Limits,
    z.ZodOptional<z.ZodNullable<z.ZodNumber>>
  >,
);

export const createWorkspaceBodySchema = z.strictObject({
  id: z.string().regex(WORKSPACE_ID_PATTERN, "id must be 1-63 lowercase letters, digits, '-' or '_'"),
  name: z.string().min(1).max(200).optional(),
  models: entitledModelsSchema.default("*"),
  limits: limitsSchema.default({}),
  /** Share of the GPUs when several workspaces have work waiting (fair sharing). */
  weight: workspaceWeightSchema.default(DEFAULT_WORKSPACE_WEIGHT),
});

export const updateWorkspaceBodySchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  models: entitledModelsSchema.optional(),
  limits: limitsPatchSchema.optional(),
  weight: workspaceWeightSchema.optional(),
  /** Issue a new webhook signing secret (the old one stops working at once). */
  rotate_webhook_secret: z.boolean().optional(),
});

export const createKeyBodySchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    role: keyRoleSchema.default("member"),
    /** Unix seconds after which the key is refused. */
    expires_at: z.number().int().positive().optional(),
    expires_in_seconds: z.number().int().positive().optional(),
    limits: limitsSchema.optional(),
  })
  .refine((body) => body.expires_at === undefined || body.expires_in_seconds === undefined, {
    message: "give expires_at or expires_in_seconds, not both",
    path: ["expires_in_seconds"],
  });

export const rotateKeyBodySchema = z.strictObject({
  /** How long the replaced secret keeps working; 0 refuses it at once. */
  grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional(),
});

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parseOrInvalid(schema, body ?? {}, { fallbackMessage: "invalid body", pathInMessage: true });
}

export function workspaceView(record: WorkspaceRecord) {
  return { object: "workspace" as const, ...record };
}

export interface AdminOperationsDeps {
  store: WorkspaceStore;
  /** Where dispatchers read each workspace's weight (the record keeps the setting). */
  fairShareWeights: { set(workspaceId: string, weight: number): Promise<void> };
  catalog: ModelCatalog;
  /** Grace period of a rotated secret when the request gives none. */
  defaultRotationGraceSeconds: number;
  nowSeconds?: () => number;
}

export function createAdminOperations(deps: AdminOperationsDeps) {
  const { store } = deps;
  const now = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));

  function checkModels(models: "*" | string[] | undefined): void {
    if (models === undefined || models === "*") return;
    const unknown = models.filter((id) => !deps.catalog.get(id));
    if (unknown.length > 0) {
      throw new ServiceError("invalid_payload", `models: not in the model library: ${unknown.join(", ")}`, { param: "models" });
    }
  }

  async function workspaceOrThrow(workspaceId: string): Promise<WorkspaceRecord> {
    const record = WORKSPACE_ID_PATTERN.test(workspaceId) ? await store.getWorkspace(workspaceId) : undefined;
    if (!record) throw new ServiceError("not_found", `No workspace '${workspaceId}'.`);
    return record;
  }

  async function keyOrThrow(keyId: string): Promise<KeyRecord> {
    const record = KEY_ID_PATTERN.test(keyId) ? await store.getKey(keyId) : undefined;
    if (!record) throw new ServiceError("not_found", `No API key '${keyId}'.`);
    return record;
  }

  return {
    async createWorkspace(body: unknown) {
      const input = parseBody(createWorkspaceBodySchema, body);
      checkModels(input.models);
      const record: WorkspaceRecord = {
        id: input.id,
        name: input.name ?? input.id,
        models: input.models,
        limits: input.limits,
        webhook_secret: newWebhookSecret(),
        created_at: now(),
        weight: input.weight,
      };
      if (!(await store.createWorkspace(record))) throw new ServiceError("conflict", `Workspace '${input.id}' already exists.`);
      await deps.fairShareWeights.set(record.id, record.weight);
      return workspaceView(record);
    },

    async listWorkspaces() {
      return { object: "list" as const, data: (await store.listWorkspaces()).map(workspaceView) };
    },

    async getWorkspace(workspaceId: string) {
      return workspaceView(await workspaceOrThrow(workspaceId));
    },

    async updateWorkspace(workspaceId: string, body: unknown) {
      const input = parseBody(updateWorkspaceBodySchema, body);
      checkModels(input.models);
      const current = await workspaceOrThrow(workspaceId);
      const fields: Record<string, string> = {};
      if (input.name !== undefined) fields.name = input.name;
      if (input.models !== undefined) fields.models = JSON.stringify(input.models);
      if (input.limits !== undefined) {
        const limits: Record<string, number | undefined> = { ...current.limits };
        for (const [name, value] of Object.entries(input.limits)) {
          if (value === null) delete limits[name];
          else if (value !== undefined) limits[name] = value;
        }
        fields.limits = JSON.stringify(limits);
      }
      if (input.rotate_webhook_secret) fields.webhook_secret = newWebhookSecret();
      if (input.weight !== undefined) fields.weight = String(input.weight);
      if (!(await store.updateWorkspace(workspaceId, fields))) throw new ServiceError("not_found", `No workspace '${workspaceId}'.`);
      // Takes effect at the next dispatch, for work already waiting too.
      if (input.weight !== undefined) await deps.fairShareWeights.set(workspaceId, input.weight);
      await store.publishInvalidation({ kind: "workspace", id: workspaceId });
      return workspaceView(await workspaceOrThrow(workspaceId));
    },

    /** Mints a key; the response is the only place its secret ever appears. */
    async createKey(workspaceId: string, body: unknown) {
      const input = parseBody(createKeyBodySchema, body);
      await workspaceOrThrow(workspaceId);
      const createdAt = now();
      // A key that is dead on arrival is a mistake (seconds vs milliseconds, a stale script), not a request.
      if (input.expires_at !== undefined && input.expires_at <= createdAt) {
        throw new ServiceError("invalid_payload", "expires_at is in the past: give a future Unix time in seconds, or expires_in_seconds.", { param: "expires_at" });
      }
      if (input.expires_at !== undefined && input.expires_at > createdAt + MAX_KEY_LIFETIME_SECONDS) {
        throw new ServiceError("invalid_payload", "expires_at is more than 100 years away: it is Unix time in seconds, not milliseconds.", { param: "expires_at" });
      }
      const expiresAt = input.expires_at ?? (input.expires_in_seconds === undefined ? undefined : createdAt + input.expires_in_seconds);
      for (;;) {
        const minted = mintKey();
        const record: KeyRecord = {
          id: minted.keyId,
          workspace_id: workspaceId,
          name: input.name,
          role: input.role,
          secret_hash: minted.hash.toString("hex"),
          created_at: createdAt,
          expires_at: expiresAt,
          limits: input.limits,
        };
        // A clash of 12-character random ids is practically impossible; retry anyway.
        if (await store.createKey(record)) return { ...publicKeyView(record), key: minted.plaintext };
      }
    },

    async listKeys(workspaceId: string) {
      await workspaceOrThrow(workspaceId);
      return { object: "list" as const, data: (await store.listKeys(workspaceId)).map(publicKeyView) };
    },

    async getKey(keyId: string) {
      return publicKeyView(await keyOrThrow(keyId));
    },

    /** A new secret for the same key id; the old one keeps working for the grace period. */
    async rotateKey(keyId: string, body: unknown) {
      const input = parseBody(rotateKeyBodySchema, body);
      await keyOrThrow(keyId);
      const minted = mintKey(keyId);
      const graceSeconds = input.grace_seconds ?? deps.defaultRotationGraceSeconds;
      const outcome = await store.rotateKey(keyId, minted.hash.toString("hex"), now() + graceSeconds);
      if (outcome === "missing") throw new ServiceError("not_found", `No API key '${keyId}'.`);
      if (outcome === "revoked") throw new ServiceError("conflict", `API key '${keyId}' is revoked and cannot be rotated.`);
      await store.publishInvalidation({ kind: "key", id: keyId });
      return { ...publicKeyView(await keyOrThrow(keyId)), key: minted.plaintext };
    },

    async revokeKey(keyId: string) {
      if (!KEY_ID_PATTERN.test(keyId) || !(await store.revokeKey(keyId, now()))) {
        throw new ServiceError("not_found", `No API key '${keyId}'.`);
      }
      await store.publishInvalidation({ kind: "key", id: keyId });
      return publicKeyView(await keyOrThrow(keyId));
    },

    /**
     * The `default` workspace, which keys from the environment belong to:
     * created with every model on first start, left as operators changed it after.
     */
    async ensureDefaultWorkspace(workspaceId: string, webhookSecret?: string): Promise<void> {
      await store.createWorkspace({
        id: workspaceId,
        name: "Default workspace",
        models: "*",
        limits: {},
        webhook_secret: webhookSecret ?? newWebhookSecret(),
        created_at: now(),
        weight: DEFAULT_WORKSPACE_WEIGHT,
      });
    },
  };
}
export type AdminOperations = ReturnType<typeof createAdminOperations>;
