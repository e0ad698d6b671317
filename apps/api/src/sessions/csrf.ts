import { timingSafeEqual } from "node:crypto";
import { ServiceError } from "@imagegen/shared";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CsrfRequest {
  method: string;
  /** The origin this API is reached at, e.g. "http://127.0.0.1:8080" (protocol + Host). */
  ownOrigin: string;
  origin: string | undefined;
  /** The browser's `Sec-Fetch-Site`, when it sends one. */
  fetchSite: string | undefined;
}

/**
 * A request from another site's page. Browsers send `Origin` on every
 * cross-origin request and on same-origin POSTs, and `Sec-Fetch-Site` on
 * all of them; either naming another site is refused. Their absence (curl,
 * old browsers) is decided by the token check.
 */
export function isCrossSite(request: Pick<CsrfRequest, "ownOrigin" | "origin" | "fetchSite">): boolean {
  if (request.origin !== undefined && request.origin !== request.ownOrigin) return true;
  return request.fetchSite !== undefined && request.fetchSite !== "same-origin" && request.fetchSite !== "none";
}

function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * State-changing calls authenticated by the session cookie need both: the
 * session's CSRF token echoed in `X-CSRF-Token` (a header other sites'
 * pages cannot set without a CORS preflight this API never grants, and a
 * value they cannot read), and no sign of coming from another site.
 * Throws 403 forbidden otherwise.
 */
export function checkCsrf(request: CsrfRequest & { presentedToken: string | undefined; sessionToken: string }): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (isCrossSite(request) || !sameToken(request.presentedToken, request.sessionToken)) {
    throw new ServiceError(
      "forbidden",
      "Cross-site request refused: calls that change something with a console session need the X-CSRF-Token header from sign-in, sent from the console's own origin.",
      { param: "X-CSRF-Token" },
    );
  }
}
