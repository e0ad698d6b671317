import { ServiceError, type KeyRole } from "@imagegen/shared";
import type { RequestHandler } from "express";
import type { Principal } from "./authenticator.js";

/** Refuses callers whose key lacks the role with 403 permission_error (after authentication). */
export function requireRole(role: KeyRole): RequestHandler {
  return (_req, res, next) => {
    const principal = res.locals.principal as Principal;
    if (principal.role !== role) {
      throw new ServiceError("forbidden", `This needs an ${role} key of the workspace; the key used is a ${principal.role} key.`);
    }
    next();
  };
}
