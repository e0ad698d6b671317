import { createHash, timingSafeEqual } from "node:crypto";
import { ServiceError } from "@imagegen/shared";
import type { RequestHandler } from "express";
import type { AuthFailureLimiter } from "../auth/auth-failures.js";

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The operator token (ADMIN_TOKEN) and nothing else opens the admin API:
 * workspace keys get the same 401 as any wrong token. Digests of equal length
 * are compared in constant time, so neither the token's length nor its
 * content leaks through timing. Failures count against the client address
 * like failed API keys.
 */
export function authenticateAdmin(deps: { adminToken: string; failures: AuthFailureLimiter }): RequestHandler {
  const expected = digest(deps.adminToken);
  return async (req, _res, next) => {
    const address = req.ip ?? req.socket.remoteAddress ?? "unknown";
    const match = BEARER.exec(req.headers.authorization ?? "");
    // The right token passes whatever others at this address tried.
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next();
    const blockedMs = await deps.failures.blockedForMs(address).catch((error: unknown) => {
      throw new ServiceError("service_unavailable", "Authentication is unavailable. Retry with backoff.", { cause: error });
    });
    if (blockedMs > 0) {
      throw new ServiceError("rate_limited", "Too many failed authentication attempts from this address.", {
        retryAfterSeconds: Math.ceil(blockedMs / 1000),
      });
    }
    await deps.failures.recordFailure(address).catch(() => {});
    throw new ServiceError("unauthorized", "Missing or invalid admin token. The admin API takes the operator's ADMIN_TOKEN, not an API key.");
  };
}
