import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "./codes.js";
import { ERROR_TABLE } from "./table.js";

export interface ServiceErrorOptions {
  /** The request field at fault, as OpenAI's `error.param`. */
  param?: string | null;
  /** Seconds after which a retry may succeed; sent as `Retry-After`. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A failure that has a public meaning. Throw it anywhere; the HTTP error
 * handler and the job processors know how to carry it to the caller.
 */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message?: string, options: ServiceErrorOptions = {}) {
    super(message ?? ERROR_TABLE[code].message, { cause: options.cause });
    this.name = "ServiceError";
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_TABLE[this.code].retryable;
  }
}

export const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.enum(ERROR_CODES),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The OpenAI error envelope for a failure: the only place one is built. */
export function toErrorBody(error: ServiceError): ErrorBody {
  return {
    error: {
      message: error.message,
      type: ERROR_TABLE[error.code].type,
      param: error.param,
      code: error.code,
    },
  };
}
