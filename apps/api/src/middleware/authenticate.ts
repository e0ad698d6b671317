import { ServiceError } from "@imagegen/shared";
import type { RequestHandler } from "express";
import type { ApiKeyVerifier } from "../auth/api-keys.js";

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * Bearer API keys. Missing, malformed and unknown keys all get the same 401,
 * so the answer says nothing about why a key was refused.
 */
export function authenticate(verifier: ApiKeyVerifier): RequestHandler {
  return (req, res, next) => {
    const match = BEARER.exec(req.headers.authorization ?? "");
    const principal = match ? verifier.verify(match[1]!) : undefined;
    if (!principal) return next(new ServiceError("unauthorized"));
    res.locals.principal = principal;
    res.locals.log = res.locals.log.child({ workspace: principal.workspaceId, keyPrefix: principal.keyPrefix });
    next();
  };
}
