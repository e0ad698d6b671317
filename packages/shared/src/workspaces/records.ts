import type { RedisClient } from "../redis.js";
import { z } from "zod";
import { workspaceKeys } from "../redis-keys.js";
import { jsonColumn } from "../records/json-column.js";

/**
 * Workspaces: who may call which models, within which limits, and the secret
 * their webhooks are signed with. Stored as one Redis hash per workspace; the
 * API owns writes (admin API and CLI), the worker may read (webhook secret).
 */

export const WORKSPACE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Per-minute, per-day and concurrency limits. 0 means unlimited; an absent field falls back to the default. */
export const limitsSchema = z.strictObject({
  requests_per_minute: z.number().int().min(0).optional(),
  images_per_minute: z.number().int().min(0).optional(),
  concurrent_generations: z.number().int().min(0).optional(),
  images_per_day: z.number().int().min(0).optional(),
});
export type Limits = z.infer<typeof limitsSchema>;
export const LIMIT_NAMES = ["requests_per_minute", "images_per_minute", "concurrent_generations", "images_per_day"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Model ids the workspace may use, or "*" for every model of the library. */
export const entitledModelsSchema = z.union([z.literal("*"), z.array(z.string().min(1)).max(1000)]);
export type EntitledModels = z.infer<typeof entitledModelsSchema>;

/** A workspace's share of the GPUs relative to other busy workspaces (fair sharing): 2 gets twice the slots of 1. */
export const DEFAULT_WORKSPACE_WEIGHT = 1;
export const workspaceWeightSchema = z.number().min(0.01).max(1000);

/** A workspace hash as Redis returns it (all strings), parsed. */
export const workspaceRecordSchema = z.object({
  id: z.string().regex(WORKSPACE_ID_PATTERN),
  name: z.string(),
  models: jsonColumn(entitledModelsSchema),
  limits: jsonColumn(limitsSchema),
  webhook_secret: z.string(),
  created_at: z.coerce.number().int(),
  /** Share of the GPUs relative to other busy workspaces (fair sharing); absent on records written before it existed. */
  weight: z.coerce.number().pipe(workspaceWeightSchema).default(DEFAULT_WORKSPACE_WEIGHT),
});
export type WorkspaceRecord = z.infer<typeof workspaceRecordSchema>;

/** The hash fields of a workspace record, as written. */
export function workspaceFields(record: WorkspaceRecord): Record<string, string> {
  return {
    id: record.id,
    name: record.name,
    models: JSON.stringify(record.models),
    limits: JSON.stringify(record.limits),
    webhook_secret: record.webhook_secret,
    created_at: String(record.created_at),
    weight: String(record.weight),
  };
}

/** One workspace, or undefined when it does not exist. Throws on a corrupt record. */
export async function readWorkspace(redis: RedisClient, prefix: string, workspaceId: string): Promise<WorkspaceRecord | undefined> {
  const fields = await redis.hgetall(workspaceKeys(prefix).workspace(workspaceId));
  if (Object.keys(fields).length === 0) return undefined;
  return workspaceRecordSchema.parse(fields);
}
