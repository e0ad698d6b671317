import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody, type OpenAiErrorType } from "./protocol.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult =
  | { kind: "json"; value: unknown }
  | { kind: "malformed"; message: string }
  | { kind: "tooLarge" }
  | { kind: "aborted" };

/** Largest body of a request that carries images (edits): inputs are megabytes of base64 or multipart. */
export const MAX_EDIT_BODY_BYTES = 64 * 1024 * 1024;

type RawBody = { kind: "bytes"; value: Buffer } | { kind: "tooLarge" } | { kind: "aborted" };

/**
 * Reads a body of at most maxBytes. An oversized body is still drained (not
 * buffered) before answering 413, so the client finishes sending and reads
 * the status instead of hitting a reset mid-upload.
 */
function readRawBody(req: IncomingMessage, maxBytes: number): Promise<RawBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    let tooLarge = Number(req.headers["content-length"] ?? 0) > maxBytes;

    req.on("data", (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? { kind: "tooLarge" } : { kind: "bytes", value: Buffer.concat(chunks) }));
    req.on("close", () => {
      if (!req.complete) resolve({ kind: "aborted" });
    });
    req.on("error", () => resolve({ kind: "aborted" }));
  });
}

/** Reads and parses a JSON body of at most maxBytes. */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<BodyResult> {
  const raw = await readRawBody(req, maxBytes);
  if (raw.kind !== "bytes") return raw;
  try {
    return { kind: "json", value: JSON.parse(raw.value.toString("utf8")) };
  } catch (error) {
    return { kind: "malformed", message: `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Reads a multipart/form-data body into a plain object: text fields as
 * strings, files as Buffers, repeated names (`image[]`) as arrays of them.
 */
export async function readMultipartBody(req: IncomingMessage, maxBytes = MAX_EDIT_BODY_BYTES): Promise<BodyResult> {
  const raw = await readRawBody(req, maxBytes);
  if (raw.kind !== "bytes") return raw;
  let form: FormData;
  try {
    form = await new Response(raw.value, { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
  } catch (error) {
    return { kind: "malformed", message: `request body is not multipart/form-data: ${error instanceof Error ? error.message : String(error)}` };
  }
  const value: Record<string, string | Buffer | Buffer[]> = {};
  for (const [name, entry] of form.entries()) {
    const item = typeof entry === "string" ? entry : Buffer.from(await entry.arrayBuffer());
    if (name.endsWith("[]")) {
      const list = value[name];
      value[name] = [...(Array.isArray(list) ? list : []), ...(typeof item === "string" ? [] : [item])];
    } else {
      value[name] = item;
    }
  }
  return { kind: "json", value };
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
