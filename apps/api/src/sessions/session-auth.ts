import { ServiceError, SESSION_COOKIE, CSRF_HEADER } from "@imagegen/shared";
import type { Request, Response } from "express";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import { clearedSessionCookie, readCookie } from "./cookies.js";
import { checkCsrf } from "./csrf.js";
import type { SessionStore, StoredSession } from "./session-store.js";

/** What `authenticate` leaves on `res.locals` for a request made with the session cookie. */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      session?: StoredSession;
      sessionToken?: string;
    }
  }
}

/** The origin the caller reached us at: protocol and host as Express sees them (X-Forwarded-Proto/-Host when TRUST_PROXY trusts the proxy). */
export function ownOrigin(req: Request): string {
  return `${req.protocol}://${req.host}`;
}

/**
 * Authenticates a request by its console session cookie: the session must
 * exist, pass the CSRF check for state-changing methods, and its key must
 * still open the workspace. A dead session's cookie is cleared.
 */
export function createSessionAuthenticator(deps: { sessions: SessionStore; authenticator: Authenticator }) {
  return {
    /** The session cookie's token, if the request carries one. */
    tokenOf(req: Request): string | undefined {
      return readCookie(req.headers.cookie, SESSION_COOKIE);
    },

    async authenticate(req: Request, res: Response, token: string): Promise<{ principal: Principal; session: StoredSession }> {
      let session: StoredSession | undefined;
      try {
        session = await deps.sessions.find(token);
      } catch (error) {
        throw new ServiceError("service_unavailable", "Authentication is unavailable. Retry with backoff.", { cause: error });
      }
      if (!session) {
        res.append("set-cookie", clearedSessionCookie(SESSION_COOKIE, req.secure));
        throw new ServiceError("unauthorized", "Your console session has ended. Sign in again.");
      }
      checkCsrf({
        method: req.method,
        ownOrigin: ownOrigin(req),
        origin: req.get("origin"),
        fetchSite: req.get("sec-fetch-site"),
        presentedToken: req.get(CSRF_HEADER),
        sessionToken: session.csrf_token,
      });
      const principal = await deps.authenticator.principalForDigest(session.minted_key_id, Buffer.from(session.key_digest, "hex"));
      if (!principal) {
        // The key was revoked or expired: the session goes with it.
        await deps.sessions.delete(token).catch(() => {});
        res.append("set-cookie", clearedSessionCookie(SESSION_COOKIE, req.secure));
        throw new ServiceError("unauthorized", "The API key behind this session no longer works. Sign in again.");
      }
      return { principal, session };
    },
  };
}
export type SessionAuthenticator = ReturnType<typeof createSessionAuthenticator>;
