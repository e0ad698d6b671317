import { z } from "zod";
import { ERROR_CODES } from "../errors/codes.js";
import { ServiceError } from "../errors/service-error.js";

/**
 * A failure as it travels between processes (job results, records, batch
 * output lines): plain data, so the receiving side can rebuild the
 * ServiceError. Inside one process failures stay ServiceError objects.
 */
export const failureSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  param: z.string().nullable().default(null),
  retryAfterSeconds: z.number().nonnegative().optional(),
});
export type Failure = z.infer<typeof failureSchema>;

export function toFailure(error: ServiceError): Failure {
  return {
    code: error.code,
    message: error.message,
    param: error.param,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  };
}

export function fromFailure(failure: Failure): ServiceError {
  return new ServiceError(failure.code, failure.message, {
    param: failure.param,
    ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
  });
}
