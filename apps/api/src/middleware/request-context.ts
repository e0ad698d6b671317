import type { Logger } from "@imagegen/shared";
import type { RequestHandler, Response } from "express";
import type { ApiMetrics } from "../metrics.js";
import { createRequestIdSource } from "./request-id.js";

/**
 * Every request gets our own id (`req_` + 24 random hex digits), sent back in
 * `x-request-id` and carried by a child logger into every log line. A
 * caller-supplied id is never reused as ours: ids name jobs, and must not be
 * choosable by a caller.
 */
export const newRequestId = createRequestIdSource();

/**
 * The request's logger, made on first use: a pino child serializes its
 * bindings when made (~6 µs), and most requests log nothing at the usual
 * levels. Bindings added before then (`bindLog`) go into that one child
 * instead of a child of a child.
 */
function lazyRequestLog(res: Response, baseLog: Logger, requestId: string): void {
  const bindings: Record<string, unknown> = { requestId };
  let log: Logger | undefined;
  Object.defineProperty(res.locals, "log", {
    configurable: true,
    enumerable: true,
    get: () => (log ??= baseLog.child(bindings)),
    set: (value: Logger) => {
      log = value;
    },
  });
  res.locals.bindLog = (more) => {
    if (log) log = log.child(more);
    else Object.assign(bindings, more);
  };
}

/** Request id, request-scoped logger, access log and HTTP metrics. */
export function requestContext(log: Logger, metrics: ApiMetrics): RequestHandler {
  const accessLog = log.isLevelEnabled("info");
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    const requestId = newRequestId();
    res.locals.requestId = requestId;
    lazyRequestLog(res, log, requestId);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      // Route templates, never raw paths, keep label values bounded.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
      const labels = { route, method: req.method, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestSeconds.observe(labels, seconds);
      if (accessLog) res.locals.log.info({ method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000) }, "request");
    });
    next();
  };
}
