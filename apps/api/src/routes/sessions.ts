import { ServiceError, SESSION_COOKIE, signInBodySchema } from "@imagegen/shared";
import { json, Router, type Response } from "express";
import type { Authenticator } from "../auth/authenticator.js";
import { parseMintedKey, hashKey } from "../auth/key-format.js";
import { clearedSessionCookie, sessionCookie } from "../sessions/cookies.js";
import { isCrossSite } from "../sessions/csrf.js";
import { ownOrigin } from "../sessions/session-auth.js";
import { toSessionObject, type SessionStore, type StoredSession } from "../sessions/session-store.js";

/**
 * POST /v1/sessions: exchanges an API key for a console session (cookie).
 * Mounted before authentication. Only JSON bodies from our own origin are
 * taken, so another site's form cannot sign a visitor in to its workspace;
 * a wrong key counts as a failed authentication of the address, exactly as
 * a wrong Bearer key does.
 */
export function signInRouter(deps: { authenticator: Authenticator; sessions: SessionStore }): Router {
  const router = Router();
  router.post("/v1/sessions", json({ limit: 4096, type: () => true }), async (req, res) => {
    if (!req.is("application/json")) {
      throw new ServiceError("invalid_payload", "Send the API key as JSON: {\"api_key\": \"…\"} with Content-Type: application/json.");
    }
    if (isCrossSite({ ownOrigin: ownOrigin(req), origin: req.get("origin"), fetchSite: req.get("sec-fetch-site") })) {
      throw new ServiceError("forbidden", "Sign-in is only accepted from the console's own origin.");
    }
    const parsed = signInBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new ServiceError("invalid_payload", parsed.error.issues[0]?.message ?? "api_key is required", { param: "api_key" });
    const apiKey = parsed.data.api_key;
    const principal = await deps.authenticator.authenticate(apiKey, req.ip ?? req.socket.remoteAddress ?? "unknown");
    let opened: { token: string; session: StoredSession };
    try {
      opened = await deps.sessions.create({
        workspace_id: principal.workspaceId,
        role: principal.role,
        key_prefix: principal.keyPrefix,
        ...(parseMintedKey(apiKey) ? { minted_key_id: principal.keyId } : {}),
        key_digest: hashKey(apiKey).toString("hex"),
      });
    } catch (error) {
      throw new ServiceError("service_unavailable", "Sessions are unavailable. Retry with backoff.", { cause: error });
    }
    res.locals.log.info({ workspace: principal.workspaceId, keyPrefix: principal.keyPrefix }, "console sign-in");
    res.append("set-cookie", sessionCookie(SESSION_COOKIE, opened.token, { maxAgeSeconds: deps.sessions.ttlSeconds, secure: req.secure }));
    res.setHeader("cache-control", "no-store");
    res.status(201).json(toSessionObject(opened.session));
  });
  return router;
}

/** GET and DELETE /v1/sessions/current: the console's own session; mounted after authentication. */
export function sessionsRouter(deps: { sessions: SessionStore }): Router {
  const router = Router();
  const currentSession = (res: Response): { session: StoredSession; token: string } => {
    const { session, sessionToken: token } = res.locals;
    if (!session || token === undefined) throw new ServiceError("not_found", "No console session: this call was made with an API key. Sign in with POST /v1/sessions.");
    return { session, token };
  };
  router.get("/v1/sessions/current", (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.json(toSessionObject(currentSession(res).session));
  });
  router.delete("/v1/sessions/current", async (req, res) => {
    const { session, token } = currentSession(res);
    await deps.sessions.delete(token);
    res.append("set-cookie", clearedSessionCookie(SESSION_COOKIE, req.secure));
    res.json({ ...toSessionObject(session), deleted: true });
  });
  return router;
}

