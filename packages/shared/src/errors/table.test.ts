import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./codes.js";
import { fromFailure, toFailure } from "../basics/failure.js";
import { ServiceError, errorBodySchema, toErrorBody } from "./service-error.js";
import { ERROR_TABLE } from "./table.js";

describe("error table", () => {
  it("gives the published status for each code of the API contract", () => {
    expect(ERROR_TABLE.invalid_payload.status).toBe(400);
    expect(ERROR_TABLE.unauthorized.status).toBe(401);
    expect(ERROR_TABLE.model_not_found.status).toBe(404);
    expect(ERROR_TABLE.rate_limited.status).toBe(429);
    expect(ERROR_TABLE.upstream_unavailable.status).toBe(503);
  });

  it("answers a body that stopped arriving with 408 request_timeout", () => {
    expect(ERROR_TABLE.request_timeout).toMatchObject({ status: 408, type: "invalid_request_error", retryable: false });
  });

  it("answers a duplicate created through the admin API with 409 conflict", () => {
    expect(ERROR_TABLE.conflict.status).toBe(409);
    expect(ERROR_TABLE.conflict.type).toBe("invalid_request_error");
  });

  it("answers our own faults, upstream garbage and timeouts with 500, 502 and 504", () => {
    expect(ERROR_TABLE.internal_error.status).toBe(500);
    expect(ERROR_TABLE.upstream_invalid_response.status).toBe(502);
    expect(ERROR_TABLE.upstream_timeout.status).toBe(504);
  });

  it("has a row for every code, marks only server-side and rate failures retryable", () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_TABLE[code];
      expect(spec.message.length).toBeGreaterThan(0);
      expect(spec.retryable).toBe(spec.status === 429 || spec.status >= 500);
    }
  });
});

describe("error envelope", () => {
  it("renders OpenAI's {error: {message, type, param, code}} shape", () => {
    const body = toErrorBody(new ServiceError("invalid_payload", "size is not supported", { param: "size" }));
    expect(errorBodySchema.parse(body)).toEqual({
      error: { message: "size is not supported", type: "invalid_request_error", param: "size", code: "invalid_payload" },
    });
  });

  it("uses the table's message when the failure site gives none, and null param", () => {
    const body = toErrorBody(new ServiceError("unauthorized"));
    expect(body.error.message).toBe(ERROR_TABLE.unauthorized.message);
    expect(body.error.param).toBeNull();
    expect(body.error.type).toBe("authentication_error");
  });

  it("survives a trip between processes with its code, param and Retry-After", () => {
    const original = new ServiceError("upstream_unavailable", "busy", { retryAfterSeconds: 7 });
    const rebuilt = fromFailure(JSON.parse(JSON.stringify(toFailure(original))));
    expect(rebuilt.code).toBe("upstream_unavailable");
    expect(rebuilt.message).toBe("busy");
    expect(rebuilt.retryAfterSeconds).toBe(7);
    expect(rebuilt.status).toBe(503);
  });
});
