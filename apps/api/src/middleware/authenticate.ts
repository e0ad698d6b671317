import type { RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticator.js";

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * Bearer API keys. Missing, malformed, unknown, expired and revoked keys all
 * get the same 401, so the answer says nothing about why a key was refused.
 * Logs carry the key's public prefix, never the key.
 */
export function authenticate(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const match = BEARER.exec(req.headers.authorization ?? "");
    const principal = await authenticator.authenticate(match?.[1], req.ip ?? req.socket.remoteAddress ?? "unknown");
    res.locals.principal = principal;
    res.locals.log = res.locals.log.child({ workspace: principal.workspaceId, keyPrefix: principal.keyPrefix });
    next();
  };
}
