import { z } from "zod";
import { keyRoleSchema } from "./keys.js";

/**
 * Console sessions: an API key exchanged for a server-side session held in
 * Redis and named by an HttpOnly cookie. State-changing calls made with the
 * cookie must echo `csrf_token` in the `X-CSRF-Token` header.
 */
export const CSRF_HEADER = "x-csrf-token";
export const SESSION_COOKIE = "imagegen_session";

export const signInBodySchema = z.strictObject({
  api_key: z.string({ error: "api_key is required" }).min(1, "api_key is required").max(512, "api_key is too long"),
});
export type SignInBody = z.infer<typeof signInBodySchema>;

export const sessionObjectSchema = z.object({
  object: z.literal("session"),
  workspace_id: z.string(),
  role: keyRoleSchema,
  /** The public part of the key that signed in (`igk_…` or `env-…`). */
  key_prefix: z.string(),
  created_at: z.number().int(),
  expires_at: z.number().int(),
  csrf_token: z.string(),
});
export type SessionObject = z.infer<typeof sessionObjectSchema>;
