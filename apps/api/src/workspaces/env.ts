import { z } from "zod";

/** Environment settings of workspaces, keys and limits; part of the API's config and read by the CLI. */
export const accessEnvShape = {
  /**
   * Operator token of the admin API (/admin/v1), at least 32 characters.
   * Unset: the admin API does not exist (404); the CLI still works.
   */
  ADMIN_TOKEN: z.string().min(32, "ADMIN_TOKEN must be at least 32 characters").optional(),
  /**
   * How long a verified key is trusted without asking Redis. Revocations are
   * broadcast and seen at once; this bounds the delay if a broadcast is missed.
   */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(5000).default(2000),
  /**
   * Webhook signing secret (`whsec_…`) the `default` workspace gets when it is
   * first created; unset: a random one (the admin API shows it).
   */
  DEFAULT_WORKSPACE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, "looks like whsec_<base64>").optional(),
  /** How long a rotated key's old secret keeps working when the rotation does not say. */
  KEY_ROTATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(30 * 24 * 3600).default(24 * 3600),
  /** Failed authentications per client address and minute before it is refused with 429; 0 turns the limit off. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /**
   * Express's `trust proxy`: whose X-Forwarded-For to believe for the client
   * address. `false` (default: the TCP peer), `true`, a hop count, or
   * comma-separated addresses/subnets of your proxies.
   */
  TRUST_PROXY: z
    .string()
    .default("false")
    .transform((value): boolean | number | string => {
      if (value === "true" || value === "false") return value === "true";
      return /^\d+$/.test(value) ? Number(value) : value;
    }),
};
