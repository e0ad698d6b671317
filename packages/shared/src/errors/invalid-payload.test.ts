import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseOrInvalid } from "./invalid-payload.js";
import { ServiceError } from "./service-error.js";

const schema = z.object({ limit: z.number({ error: "limit must be a number" }), metadata: z.object({ tag: z.string({ error: "tag must be a string" }) }).optional() });

function refusal(value: unknown, options: Parameters<typeof parseOrInvalid>[2] = { fallbackMessage: "bad" }): ServiceError {
  try {
    parseOrInvalid(schema, value, options);
  } catch (error) {
    if (error instanceof ServiceError) return error;
  }
  throw new Error("expected a refusal");
}

describe("zod failures as 400 invalid_payload", () => {
  it("name the field at fault, dotted when it nests", () => {
    expect(refusal({ limit: "x" })).toMatchObject({ code: "invalid_payload", status: 400, param: "limit", message: "limit must be a number" });
    expect(refusal({ limit: 1, metadata: { tag: 3 } })).toMatchObject({ param: "metadata.tag", message: "tag must be a string" });
  });

  it("name the given parameter instead, or prefix the path when asked", () => {
    expect(refusal({ limit: "x" }, { fallbackMessage: "bad", param: "query" })).toMatchObject({ param: "query" });
    expect(refusal({ limit: 1, metadata: { tag: 3 } }, { fallbackMessage: "bad", pathInMessage: true }).message).toBe("metadata.tag: tag must be a string");
  });

  it("return the parsed value when it fits", () => {
    expect(parseOrInvalid(schema, { limit: 2 }, { fallbackMessage: "bad" })).toEqual({ limit: 2 });
  });
});
