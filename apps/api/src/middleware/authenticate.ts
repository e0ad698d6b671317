import type { RequestHandler } from "express";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import type { SessionAuthenticator } from "../sessions/session-auth.js";

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * Bearer API keys, or (without an Authorization header) the console's
 * session cookie. Missing, malformed, unknown, expired and revoked keys all
 * get the same 401, so the answer says nothing about why a key was refused.
 * Logs carry the key's public prefix, never the key.
 */
export function authenticate(authenticator: Authenticator, sessions?: SessionAuthenticator): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const sessionToken = header === undefined ? sessions?.tokenOf(req) : undefined;
    let principal: Principal;
    if (sessions && sessionToken !== undefined) {
      const authenticated = await sessions.authenticate(req, res, sessionToken);
      principal = authenticated.principal;
      res.locals.session = authenticated.session;
      res.locals.sessionToken = sessionToken;
    } else {
      const match = BEARER.exec(header ?? "");
      principal = await authenticator.authenticate(match?.[1], req.ip ?? req.socket.remoteAddress ?? "unknown");
    }
    res.locals.principal = principal;
    res.locals.bindLog({ workspace: principal.workspaceId, keyPrefix: principal.keyPrefix });
    next();
  };
}
