import { Pool, errors as undiciErrors } from "undici";
import type { z } from "zod";
import { parseRetryAfterMs } from "./retry-after.js";
import { imageContentType, UpstreamAttemptError } from "./upstream.js";

/**
 * The HTTP plumbing every protocol adapter shares: one keep-alive pool per
 * upstream, deadlines from the caller's AbortSignal, and transport failures
 * turned into UpstreamAttemptError. Adapters keep their own request mapping,
 * response schemas and error bodies.
 */
export interface UpstreamHttpOptions {
  baseUrl: string;
  /** Connections kept to the server; one per GPU slot is enough. */
  connections: number;
  headers?: Record<string, string>;
  /** Largest reply we accept, so a broken server cannot exhaust memory. */
  maxResponseBytes?: number;
}

export interface StreamingReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer>;
  /** The whole body, for replies that turn out not to be a stream (errors, servers without streaming); transport failures as UpstreamAttemptError. */
  text(): Promise<Buffer>;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface UpstreamHttp {
  /** `path` is appended to the base URL's path. JSON bodies are serialised here. */
  request(method: "GET" | "POST" | "PUT", path: string, signal: AbortSignal, json?: unknown): Promise<HttpReply>;
  /** POSTs a multipart/form-data body (uploads, OpenAI's image edits). */
  postForm(path: string, signal: AbortSignal, form: FormData): Promise<HttpReply>;
  /**
   * POSTs JSON or a form and hands back the reply's body as it arrives, for
   * replies read on the way (server-sent events, large images). `accept`
   * defaults to JSON. The caller must read or destroy the body.
   */
  postStreaming(path: string, signal: AbortSignal, body: unknown, accept?: string): Promise<StreamingReply>;
  close(): Promise<void>;
}

const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const pool = new Pool(base.origin, {
    connections: options.connections,
    // Our own AbortSignal carries the deadline; undici's timers would only
    // cut long generations short.
    headersTimeout: 0,
    bodyTimeout: 0,
    maxResponseSize: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  });
  const headers = { accept: "application/json", ...options.headers };

  async function send(method: "GET" | "POST" | "PUT", path: string, signal: AbortSignal, body?: { contentType: string; bytes: string | Buffer }): Promise<HttpReply> {
    try {
      const response = await pool.request({
        method,
        path: basePath + path,
        headers: body === undefined ? headers : { ...headers, "content-type": body.contentType },
        ...(body === undefined ? {} : { body: body.bytes }),
        signal,
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, body: bytes };
    } catch (error) {
      throw transportError(error, signal);
    }
  }

  async function encode(body: unknown): Promise<{ contentType: string; bytes: string | Buffer }> {
    if (!(body instanceof FormData)) return { contentType: "application/json", bytes: JSON.stringify(body) };
    // The platform's encoder picks the boundary; the body is sized once, so the server sees a Content-Length.
    const encoded = new Response(body);
    return { contentType: encoded.headers.get("content-type") ?? "multipart/form-data", bytes: Buffer.from(await encoded.arrayBuffer()) };
  }

  return {
    async postStreaming(path, signal, body, accept = headers.accept) {
      const encoded = await encode(body);
      try {
        const response = await pool.request({
          method: "POST",
          path: basePath + path,
          headers: { ...headers, accept, "content-type": encoded.contentType },
          body: encoded.bytes,
          signal,
        });
        return {
          status: response.statusCode,
          headers: response.headers,
          body: response.body,
          async text() {
            try {
              return Buffer.from(await response.body.arrayBuffer());
            } catch (error) {
              throw transportError(error, signal);
            }
          },
        };
      } catch (error) {
        throw transportError(error, signal);
      }
    },
    request: (method, path, signal, json) =>
      send(method, path, signal, json === undefined ? undefined : { contentType: "application/json", bytes: JSON.stringify(json) }),
    postForm: async (path, signal, form) => send("POST", path, signal, await encode(form)),
    async close() {
      await pool.close();
    },
  };
}

/** A failure below HTTP: the deadline, an oversized reply, or no connection. */
export function transportError(error: unknown, signal: AbortSignal): UpstreamAttemptError {
  if (error instanceof UpstreamAttemptError) return error;
  if (signal.aborted) return new UpstreamAttemptError("timeout", "upstream did not answer before the deadline", { cause: error });
  if (error instanceof undiciErrors.ResponseExceededMaxSizeError) {
    return new UpstreamAttemptError("invalid_response", "upstream reply too large", { cause: error });
  }
  return new UpstreamAttemptError("connection", `cannot reach upstream: ${(error as Error).message}`, { cause: error });
}

/** A non-2xx reply as an attempt failure, with Retry-After and the server's own words. */
export function httpStatusError(reply: Pick<HttpReply, "status" | "headers">, upstreamMessage: string | undefined): UpstreamAttemptError {
  return new UpstreamAttemptError("http", `upstream answered ${reply.status}`, {
    status: reply.status,
    retryAfterMs: parseRetryAfterMs(reply.headers["retry-after"], Date.now()),
    upstreamMessage,
  });
}

export function isSuccess(reply: Pick<HttpReply, "status">): boolean {
  return reply.status >= 200 && reply.status < 300;
}

/** Parses a reply body as JSON of the given shape, or fails the attempt as an invalid response. */
export function parseReply<T>(reply: HttpReply, schema: z.ZodType<T>): T {
  return parseJsonReply(reply.body.toString("utf8"), schema);
}

/** Parses reply text as JSON of the given shape, or fails the attempt as an invalid response. */
export function parseJsonReply<T>(text: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw notJsonError(error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new UpstreamAttemptError("invalid_response", `upstream reply has the wrong shape: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export function notJsonError(cause?: unknown): UpstreamAttemptError {
  return new UpstreamAttemptError("invalid_response", "upstream reply is not JSON", cause === undefined ? {} : { cause });
}

/** Reads a JSON body leniently for an error message; undefined when it is not JSON of that shape. */
export function messageFrom<T>(reply: HttpReply, schema: z.ZodType<T>, pick: (body: T) => string | undefined): string | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(reply.body.toString("utf8")));
    return parsed.success ? pick(parsed.data) : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes base64 (optionally a `data:` URI) and checks the bytes are an image. */
export function decodeImage(base64OrDataUri: string): { bytes: Buffer; contentType: string } {
  return checkedImage(decodeBase64Value(base64OrDataUri));
}

/** The bytes of base64 text, or of a `data:…,` URI's payload; Node's decoder skips what is not base64. */
export function decodeBase64Value(base64OrDataUri: string): Buffer {
  const comma = base64OrDataUri.startsWith("data:") ? base64OrDataUri.indexOf(",") : -1;
  return Buffer.from(comma >= 0 ? base64OrDataUri.slice(comma + 1) : base64OrDataUri, "base64");
}

/** The bytes with their sniffed type, or the attempt fails: an upstream that sends something else is broken. */
export function checkedImage(bytes: Buffer): { bytes: Buffer; contentType: string } {
  const contentType = imageContentType(bytes);
  if (!contentType) throw new UpstreamAttemptError("invalid_response", "upstream returned bytes that are not an image");
  return { bytes, contentType };
}

/** "1024x768" → { width: 1024, height: 768 }; sizes are validated by the model card. */
export function parseSize(size: string): { width: number; height: number } {
  const [width, height] = size.split("x").map(Number);
  return { width: width ?? 0, height: height ?? 0 };
}
