import { z } from "zod";

/**
 * A record field that Redis keeps as JSON text, read back through its own
 * schema: a field that does not parse makes the whole record invalid instead
 * of reaching callers with the wrong shape.
 */
export function jsonColumn<T extends z.ZodType>(schema: T) {
  return z.string().transform((text, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "invalid JSON field" });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: `JSON field of the wrong shape: ${parsed.error.issues[0]?.message ?? "invalid"}` });
    return z.NEVER;
  });
}
