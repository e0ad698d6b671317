import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { ServiceError, toErrorBody } from "@imagegen/shared";
import type { Express } from "express";
import { newRequestId } from "./middleware/request-context.js";

const REASONS: Readonly<Record<400 | 408 | 431, string>> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/** What Node's HTTP layer refused, as the error it becomes for the caller. */
function describeRefusal(code: string | undefined): { status: 400 | 408 | 431; error: ServiceError } {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return { status: 408, error: new ServiceError("request_timeout", "The request was not received in time; the connection is closed.") };
  }
  if (code === "HPE_HEADER_OVERFLOW") return { status: 431, error: new ServiceError("invalid_payload", "Request headers are too large.") };
  return { status: 400, error: new ServiceError("invalid_payload", "Malformed HTTP request.") };
}

/**
 * Requests that Node's HTTP layer refuses before Express sees them
 * (malformed or oversized headers, bad framing, a body that stopped
 * arriving) still get the JSON error envelope and a request id instead of a
 * bare status line.
 */
function rejectMalformedRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const { status, error: refusal } = describeRefusal(error.code);
  const body = JSON.stringify(toErrorBody(refusal));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      `content-type: application/json\r\nx-request-id: ${newRequestId()}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export interface HttpServerOptions {
  /**
   * Deadline for receiving a whole request, headers and body
   * (REQUEST_BODY_TIMEOUT_MS). Node stops the clock once the body has
   * arrived, so a synchronous generation may still take minutes to answer.
   */
  bodyTimeoutMs: number;
}

export function createHttpServer(app: Express, options: HttpServerOptions): Server {
  // Node checks the deadlines every connectionsCheckingInterval (30 s by
  // default); check often enough that a short deadline is kept.
  const server = createServer({ connectionsCheckingInterval: Math.min(1000, options.bodyTimeoutMs) }, app);
  server.on("clientError", rejectMalformedRequest);
  // Slow-loris connections (headers or body trickling in) are cut off here.
  server.requestTimeout = options.bodyTimeoutMs;
  server.headersTimeout = Math.min(30_000, options.bodyTimeoutMs);
  server.keepAliveTimeout = 65_000;
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
