import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceError } from "@imagegen/shared";
import express, { Router, type Response } from "express";

export const CONSOLE_PATH = "/console";

/**
 * The strictest policy the console works under: its own scripts, styles and
 * API only; images also from wherever image links point (the storage's
 * origin); no frames, no plugins, no inline code.
 */
export function consoleCsp(imageOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${imageOrigins.join(" ")}`.trim(),
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Serves the built console (apps/console/dist) at /console/ on the API port:
 * hashed assets cached for a year, index.html for every page route (the
 * console routes in the browser) never cached, every answer with the CSP
 * and no third-party anything. `GET /` redirects to it. Without a build the
 * console answers 404 saying so.
 */
export function consoleStaticRouter(deps: { distDir: string; imageOrigins: readonly string[] }): Router {
  const router = Router();
  const security = {
    "content-security-policy": consoleCsp(deps.imageOrigins),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
  };
  const indexPath = join(deps.distDir, "index.html");
  const built = existsSync(indexPath);
  const indexHtml = built ? readFileSync(indexPath) : undefined;
  const secure = (res: Response) => res.set(security);

  router.get("/", (_req, res) => res.redirect(302, `${CONSOLE_PATH}/`));
  // Express matches "/console" and "/console/" alike: only the bare one redirects.
  router.get(CONSOLE_PATH, (req, res, next) => {
    if (req.originalUrl.split("?")[0]!.endsWith("/")) return next();
    res.redirect(301, `${CONSOLE_PATH}/`);
  });
  router.use(`${CONSOLE_PATH}/assets`, (_req, res, next) => {
    secure(res);
    next();
  });
  router.use(
    `${CONSOLE_PATH}/assets`,
    express.static(join(deps.distDir, "assets"), { immutable: true, maxAge: "365d", index: false, fallthrough: true, etag: false }),
  );
  router.get(`${CONSOLE_PATH}/favicon.svg`, (_req, res) => {
    if (!built) throw new ServiceError("not_found", "The console is not built: run the build (npm start and npm test build it).");
    secure(res);
    res.set("cache-control", "public, max-age=86400");
    res.sendFile(join(deps.distDir, "favicon.svg"));
  });
  router.get([`${CONSOLE_PATH}/`, `${CONSOLE_PATH}/*path`], (req, res) => {
    if (!indexHtml) throw new ServiceError("not_found", "The console is not built: run the build (npm start and npm test build it).");
    // A missing file with an extension is a 404, not the app (a stale asset link must not get HTML).
    if (/\.[a-z0-9]+$/i.test(req.path)) throw new ServiceError("not_found", `Invalid URL (${req.method} ${req.path})`);
    secure(res);
    res.set("cache-control", "no-cache");
    res.type("html").send(indexHtml);
  });
  return router;
}
