import { timingSafeEqual } from "node:crypto";
import { keyRoleSchema, limitsSchema, type ApiKeyObject } from "@imagegen/shared";
import { z } from "zod";

/**
 * An API key's record: a Redis hash found by the key's public id. Only the
 * SHA-256 of the key is kept (hex). Timestamps are Unix seconds, as in
 * OpenAI's objects. Each writer sets only its own fields (HSET), so marking
 * a key used never races with revoking or rotating it.
 */
const seconds = z.coerce.number().int();
const hexDigest = z.string().regex(/^[0-9a-f]{64}$/);

export const keyRecordSchema = z.object({
  id: z.string(),
  workspace_id: z.string(),
  name: z.string(),
  /** `admin` may also manage its workspace's keys and read its usage; records from before roles are members. */
  role: keyRoleSchema.default("member"),
  secret_hash: hexDigest,
  created_at: seconds,
  last_used_at: seconds.optional(),
  expires_at: seconds.optional(),
  revoked_at: seconds.optional(),
  /** The secret replaced by the last rotation, valid until previous_secret_expires_at. */
  previous_secret_hash: hexDigest.optional(),
  previous_secret_expires_at: seconds.optional(),
  /** Optional per-key limits on top of the workspace's (JSON). */
  limits: z
    .string()
    .transform((text) => limitsSchema.parse(JSON.parse(text)))
    .optional(),
});
export type KeyRecord = z.infer<typeof keyRecordSchema>;

export type KeyCheck = "valid" | "invalid";

function sameDigest(hex: string | undefined, presented: Buffer, dummy: Buffer): boolean {
  // Always one comparison of 32 bytes, present or not, so timing does not
  // say which fields exist.
  const stored = hex === undefined ? dummy : Buffer.from(hex, "hex");
  return timingSafeEqual(stored, presented) && hex !== undefined;
}

const DUMMY_DIGEST = Buffer.alloc(32, 0xa5);

/**
 * Whether a presented key (its SHA-256) opens this record at `nowSeconds`:
 * the current secret, or the previous one during its rotation grace period,
 * and neither once the key is revoked or expired. Pass no record for an
 * unknown key id: a dummy digest is compared instead, so an unknown id costs
 * the same as a wrong secret.
 */
export function checkKey(record: KeyRecord | undefined, presentedHash: Buffer, nowSeconds: number): KeyCheck {
  const current = sameDigest(record?.secret_hash, presentedHash, DUMMY_DIGEST);
  const previous = sameDigest(record?.previous_secret_hash, presentedHash, DUMMY_DIGEST);
  if (!record) return "invalid";
  if (record.revoked_at !== undefined && record.revoked_at <= nowSeconds) return "invalid";
  if (record.expires_at !== undefined && record.expires_at <= nowSeconds) return "invalid";
  if (current) return "valid";
  if (previous && record.previous_secret_expires_at !== undefined && record.previous_secret_expires_at > nowSeconds) return "valid";
  return "invalid";
}

/** The record as admin listings show it: never a hash. */
export function publicKeyView(record: KeyRecord): ApiKeyObject {
  return {
    object: "api_key" as const,
    id: record.id,
    prefix: `igk_${record.id}`,
    workspace_id: record.workspace_id,
    name: record.name,
    role: record.role,
    created_at: record.created_at,
    last_used_at: record.last_used_at ?? null,
    expires_at: record.expires_at ?? null,
    revoked_at: record.revoked_at ?? null,
    previous_secret_expires_at: record.previous_secret_expires_at ?? null,
    limits: record.limits ?? {},
  };
}
export type PublicKeyView = ReturnType<typeof publicKeyView>;
