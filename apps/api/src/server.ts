import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceError, toErrorBody } from "@imagegen/shared";
import type { Express } from "express";

/**
 * Requests that Node's HTTP parser refuses before Express sees them
 * (malformed or oversized headers, bad framing) still get the JSON error
 * envelope instead of a bare "400 Bad Request".
 */
function rejectMalformedRequest(error: NodeJS.ErrnoException, socket: import("node:stream").Duplex): void {
  if (!socket.writable || (error as { code?: string }).code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const body = JSON.stringify(
    toErrorBody(new ServiceError("invalid_payload", tooLarge ? "Request headers are too large." : "Malformed HTTP request.")),
  );
  socket.end(
    `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function createHttpServer(app: Express): Server {
  const server = createServer(app);
  server.on("clientError", rejectMalformedRequest);
  // Sync generations can take minutes; the model's own deadline bounds them.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
