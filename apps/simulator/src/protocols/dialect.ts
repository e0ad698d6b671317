import type { IncomingMessage, ServerResponse } from "node:http";
import type { BodyResult } from "../http-io.js";
import type { EncodedImage } from "../image-cache.js";
import type { GenerationRequest, ParseResult } from "../protocol.js";

/**
 * What the simulator decided for one synchronous generation request, before
 * it is written in a protocol's own words. The server owns auth, slots,
 * faults and latency; a dialect owns request parsing and every body.
 */
export type Reply =
  | { kind: "ok"; request: GenerationRequest; images: EncodedImage[]; host: string; revisedPrompt: string | null }
  | { kind: "unauthorized" }
  | { kind: "tooLarge"; limitBytes: number }
  | { kind: "badRequest"; message: string; param: string | null }
  /** Every GPU slot is taken. */
  | { kind: "busy"; slots: number; retryAfterSeconds: number }
  /** Injected overload (rateLimitRate, or failFirst with status 429). */
  | { kind: "rateLimit"; retryAfterSeconds: number; message: string }
  /** Injected server error (errorRate: 500; failFirst: its status). */
  | { kind: "error"; status: number; message: string }
  | { kind: "garbage"; sequence: number };

export interface SyncDialect {
  readonly name: string;
  /** How the body is read; JSON of at most MAX_BODY_BYTES unless the dialect says otherwise (edits carry images). */
  readBody?(req: IncomingMessage): Promise<BodyResult>;
  parse(body: unknown): ParseResult;
  send(res: ServerResponse, reply: Reply): void;
}

/** The request fields every diffusion API has, read from a loose object with defaults. */
export function numberField(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}
