import { z } from "zod";
import { limitsSchema } from "../workspaces/records.js";

/**
 * API keys as the public key-management API (`/v1/keys`, admin keys only)
 * and the operator's admin API show them: never a secret or a hash, except
 * `key` in the one answer that minted or rotated it.
 */
export const KEY_ROLES = ["admin", "member"] as const;
export const keyRoleSchema = z.enum(KEY_ROLES);
export type KeyRole = z.infer<typeof keyRoleSchema>;

export const apiKeyObjectSchema = z.object({
  object: z.literal("api_key"),
  id: z.string(),
  prefix: z.string(),
  workspace_id: z.string(),
  name: z.string(),
  role: keyRoleSchema,
  created_at: z.number().int(),
  last_used_at: z.number().int().nullable(),
  expires_at: z.number().int().nullable(),
  revoked_at: z.number().int().nullable(),
  previous_secret_expires_at: z.number().int().nullable(),
  limits: limitsSchema,
});
export type ApiKeyObject = z.infer<typeof apiKeyObjectSchema>;

/** The answer to create and rotate: the key object plus its secret, shown this once. */
export const apiKeyWithSecretSchema = apiKeyObjectSchema.extend({ key: z.string() });
export type ApiKeyWithSecret = z.infer<typeof apiKeyWithSecretSchema>;

export const apiKeyListSchema = z.object({ object: z.literal("list"), data: z.array(apiKeyObjectSchema) });
