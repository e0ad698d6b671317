import { z } from "zod";
import { LIMIT_NAMES } from "../workspaces/records.js";

/**
 * `GET /v1/usage`: images per UTC day for the last 30 days (oldest first,
 * today last), and every limit that applies to the caller with what is left.
 */
export const USAGE_DAYS = 30;

export const usageDaySchema = z.object({ date: z.string(), images: z.number().int() });

export const limitUsageSchema = z.object({
  name: z.enum(LIMIT_NAMES),
  /** Whose limit: the workspace's, or the calling key's own on top. */
  scope: z.enum(["workspace", "key"]),
  limit: z.number().int(),
  used: z.number().int(),
  remaining: z.number().int(),
  /** Milliseconds until the window resets; null for concurrency (slots free as requests end). */
  resets_in_ms: z.number().int().nullable(),
});
export type LimitUsage = z.infer<typeof limitUsageSchema>;

export const usageObjectSchema = z.object({
  object: z.literal("usage"),
  workspace_id: z.string(),
  days: z.array(usageDaySchema),
  limits: z.array(limitUsageSchema),
});
export type UsageObject = z.infer<typeof usageObjectSchema>;
