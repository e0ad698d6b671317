import type { z } from "zod";
import { ServiceError } from "./service-error.js";

export interface InvalidPayloadOptions {
  /** The message when zod reports no issue text. */
  fallbackMessage: string;
  /** The field to name instead of the issue's path (e.g. a query parameter). */
  param?: string;
  /** Prefix the message with the field's path, for bodies whose fields nest. */
  pathInMessage?: boolean;
}

/**
 * The one translation of a zod failure into `400 invalid_payload`: the first
 * issue's message, and its path as `param` (dotted when it nests), so callers
 * fix one field at a time, as OpenAI reports them.
 */
export function invalidPayloadFrom(error: z.ZodError, options: InvalidPayloadOptions): ServiceError {
  const issue = error.issues[0];
  const path = issue?.path.filter((part): part is string | number => typeof part !== "symbol").join(".") ?? "";
  const param = options.param ?? (path === "" ? null : path);
  const message = issue?.message ?? options.fallbackMessage;
  return new ServiceError("invalid_payload", options.pathInMessage && param ? `${param}: ${message}` : message, { param });
}

/** Parses `value` with `schema`, or throws `400 invalid_payload` naming the field. */
export function parseOrInvalid<T extends z.ZodType>(schema: T, value: unknown, options: InvalidPayloadOptions): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidPayloadFrom(parsed.error, options);
}
