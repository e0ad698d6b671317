import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody, type OpenAiErrorType } from "./protocol.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult =
  | { kind: "json"; value: unknown }
  | { kind: "malformed"; message: string }
  | { kind: "tooLarge" }
  | { kind: "aborted" };

/**
 * Reads and parses a JSON body of at most maxBytes. An oversized body is still
 * drained (not buffered) before answering 413, so the client finishes sending
 * and reads the status instead of hitting a reset mid-upload.
 */
export function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    let tooLarge = Number(req.headers["content-length"] ?? 0) > maxBytes;

    req.on("data", (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) return resolve({ kind: "tooLarge" });
      try {
        resolve({ kind: "json", value: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      } catch (error) {
        resolve({ kind: "malformed", message: `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
    req.on("close", () => {
      if (!req.complete) resolve({ kind: "aborted" });
    });
    req.on("error", () => resolve({ kind: "aborted" }));
  });
}

export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: OpenAiErrorType,
  options: { param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
): void {
  sendJson(res, status, errorBody(message, type, options.param ?? null, options.code ?? null), options.headers);
}

export function sendNotFound(res: ServerResponse, path: string): void {
  sendError(res, 404, `no route for ${path}`, "invalid_request_error", { code: "not_found" });
}

export function sendMethodNotAllowed(res: ServerResponse, method: string | undefined, allowed: string[]): void {
  sendError(res, 405, `method ${method ?? "?"} not allowed; use ${allowed.join(", ")}`, "invalid_request_error", {
    code: "method_not_allowed",
    headers: { allow: allowed.join(", ") },
  });
}
