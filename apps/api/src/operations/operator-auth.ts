import { createHash, timingSafeEqual } from "node:crypto";
import { ServiceError } from "@imagegen/shared";
import type { RequestHandler } from "express";
import type { AuthFailureLimiter } from "../auth/auth-failures.js";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** The secret a request offers: a Bearer token, or the password of HTTP Basic (any user name). */
export function offeredSecret(authorization: string | undefined): string | undefined {
  const bearer = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization ?? "");
  if (bearer) return bearer[1];
  const basic = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(authorization ?? "");
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

/**
 * ADMIN_TOKEN in front of the queue UI. Unlike the admin API, a browser
 * opens this page, so HTTP Basic is accepted too (user name ignored, the
 * token as password) and a 401 asks the browser for it. Digests of equal
 * length compare in constant time; failures count against the client
 * address with the same limiter as API keys and the admin API.
 */
export function authenticateOperator(deps: { adminToken: string; failures: AuthFailureLimiter }): RequestHandler {
  const expected = digest(deps.adminToken);
  return async (req, res, next) => {
    const address = req.ip ?? req.socket.remoteAddress ?? "unknown";
    // The right token passes whatever others at this address tried.
    const secret = offeredSecret(req.headers.authorization);
    if (secret !== undefined && timingSafeEqual(digest(secret), expected)) return next();
    const blockedMs = await deps.failures.blockedForMs(address).catch((error: unknown) => {
      throw new ServiceError("service_unavailable", "Authentication is unavailable. Retry with backoff.", { cause: error });
    });
    if (blockedMs > 0) {
      throw new ServiceError("rate_limited", "Too many failed authentication attempts from this address.", { retryAfterSeconds: Math.ceil(blockedMs / 1000) });
    }
    await deps.failures.recordFailure(address).catch(() => {});
    // The error handler renders the 401; this header makes a browser ask for the token.
    res.set("www-authenticate", 'Basic realm="imagegen queues", charset="UTF-8"');
    throw new ServiceError("unauthorized", "The queue UI takes the operator's ADMIN_TOKEN (Bearer, or as the Basic password).");
  };
}
