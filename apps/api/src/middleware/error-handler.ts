import { isRedisUnavailableError, ServiceError, toErrorBody, type Logger } from "@imagegen/shared";
import type { ErrorRequestHandler, Response } from "express";
import type { ApiMetrics } from "../metrics.js";

/** Errors Express and body-parser raise for bad input, as the caller should see them. */
function fromBodyParser(error: { type?: unknown; limit?: unknown; status?: unknown; code?: unknown }): ServiceError | undefined {
  // Express's router fails to decode a path such as /v1/images/files/% with a
  // URIError marked 400: the caller's malformed URL, not our fault.
  if (error instanceof URIError) {
    return new ServiceError("invalid_payload", "The request URL is malformed (bad percent-encoding).");
  }
  // body-parser inflates gzip/deflate/br bodies; zlib's own error codes say the bytes were not what Content-Encoding claimed.
  if (error.status === 400 && typeof error.code === "string" && /^(Z_|ERR__ERROR_)/.test(error.code)) {
    return new ServiceError("invalid_payload", "The request body could not be decompressed: it does not match its Content-Encoding.");
  }
  if (error.status === 400 && error.type === undefined) {
    return new ServiceError("invalid_payload", "The request could not be read.");
  }
  switch (error.type) {
    case "entity.parse.failed":
      return new ServiceError("invalid_payload", "We could not parse the JSON body of your request. Send valid JSON.");
    case "entity.too.large":
      return new ServiceError("invalid_payload", `The request body is too large (limit: ${String(error.limit)} bytes).`);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new ServiceError("invalid_payload", "The request body must be JSON encoded as UTF-8.");
    case "request.aborted":
    case "request.size.invalid":
      return new ServiceError("invalid_payload", "The request body was incomplete.");
    default:
      return undefined;
  }
}

export function sendError(res: Response, error: ServiceError, metrics: ApiMetrics): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(error.retryAfterSeconds));
  metrics.apiErrors.inc({ code: error.code });
  res.status(error.status).json(toErrorBody(error));
}

/**
 * The one place that turns a thrown error into a response. Known failures
 * keep their meaning; anything else is logged in full and answered with a
 * plain 500 that carries the request id, never a stack trace.
 */
export function errorHandler(metrics: ApiMetrics, baseLog: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const log: Logger = res.locals.log ?? baseLog;
    let failure = error instanceof ServiceError ? error : fromBodyParser((error ?? {}) as { type?: unknown; status?: unknown; code?: unknown });
    // Whatever touched Redis when it went away (records, queues, idempotency
    // keys): the service is unavailable for a moment, not broken.
    if (!failure && isRedisUnavailableError(error)) {
      failure = new ServiceError("service_unavailable", "The service is temporarily unavailable (its data store is unreachable). Retry with backoff.", { cause: error });
    }
    if (!failure) {
      log.error({ err: error }, "unhandled error");
      failure = new ServiceError(
        "internal_error",
        `The server had an error while processing your request. Request id: ${String(res.locals.requestId)}.`,
      );
    } else if (failure.status >= 500) {
      log.warn({ code: failure.code, err: failure.cause ?? failure }, "request failed");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, failure, metrics);
  };
}
