import type { z } from "zod";

/** Parses JSON text with a schema; undefined when the text is absent, not JSON, or not of that shape. */
export function parseJsonAs<T extends z.ZodType>(schema: T, text: string | null | undefined): z.output<T> | undefined {
  if (text === null || text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
