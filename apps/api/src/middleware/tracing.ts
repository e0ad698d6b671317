import { startHttpServerSpan } from "@imagegen/shared";
import type { RequestHandler } from "express";

/**
 * One OpenTelemetry server span per request, named after the route template
 * like the HTTP metrics. Everything after this middleware runs with the span
 * active, so BullMQ's producer span (and through the job, the worker's
 * spans) join the request's trace. Mounted only when tracing is on; the
 * trace id goes into the request's log lines to find a trace from a log.
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    const span = startHttpServerSpan(req.method, req.headers);
    res.locals.bindLog({ traceId: span.traceId });
    res.on("finish", () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
      span.end(route, res.statusCode);
    });
    span.run(next);
  };
}
