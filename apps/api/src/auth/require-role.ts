import { ServiceError, type KeyRole } from "@imagegen/shared";
import type { RequestHandler } from "express";
import { principalOf } from "../middleware/locals.js";

/** Refuses callers whose key lacks the role with 403 permission_error (after authentication). */
export function requireRole(role: KeyRole): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal.role !== role) {
      throw new ServiceError("forbidden", `This needs an ${role} key of the workspace; the key used is a ${principal.role} key.`);
    }
    next();
  };
}
