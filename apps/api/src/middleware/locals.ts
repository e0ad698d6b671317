import { ServiceError, type Logger } from "@imagegen/shared";
import type { Response } from "express";
import type { Principal } from "../auth/authenticator.js";

/**
 * What the middleware chain leaves on `res.locals`, typed once here instead
 * of cast at every use: the request id and logger from `requestContext`, the
 * caller from `authenticate` (only on authenticated routes).
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      log: Logger;
      /** Adds bindings to `log` (workspace, trace id…) without making a child logger per step. */
      bindLog: (bindings: Record<string, unknown>) => void;
      principal?: Principal;
    }
  }
}

/** The caller of an authenticated route; a route mounted outside `authenticate` is a wiring fault. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new ServiceError("internal_error", "This route is not behind authentication.");
  return principal;
}
