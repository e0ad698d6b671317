import { lazyChildLogger, type Logger } from "@imagegen/shared";
import type { RequestHandler } from "express";
import type { ApiMetrics } from "../metrics.js";
import { createRequestIdSource } from "./request-id.js";

/**
 * Every request gets our own id (`req_` + 24 random hex digits), sent back in
 * `x-request-id` and carried by a child logger into every log line. A
 * caller-supplied id is never reused as ours: ids name jobs, and must not be
 * choosable by a caller.
 */
export const newRequestId = createRequestIdSource();

/** Request id, request-scoped logger, access log and HTTP metrics. */
export function requestContext(log: Logger, metrics: ApiMetrics): RequestHandler {
  const accessLog = log.isLevelEnabled("info");
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    const requestId = newRequestId();
    res.locals.requestId = requestId;
    // Made on first use (most requests log nothing); bindings added before then go into it.
    const requestLog = lazyChildLogger(log, { requestId });
    res.locals.log = requestLog.log;
    res.locals.bindLog = requestLog.bind;
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
