import { encodeFailure, toFailure, ServiceError, type Failure } from "@imagegen/shared";
import { UnrecoverableError } from "bullmq";

/**
 * A generation that failed with a public meaning. Inside the worker the
 * Failure travels as this object (outcome recording reads `failure`); its
 * message is the encoded form BullMQ stores as the job's failedReason, which
 * is how the API, across Redis, learns the same failure. Unrecoverable: the
 * upstream client has already retried what was worth retrying.
 */
export class JobFailure extends UnrecoverableError {
  readonly failure: Failure;

  constructor(error: ServiceError) {
    const failure = toFailure(error);
    super(encodeFailure(failure));
    this.failure = failure;
  }
}

/** What a failure that is not a JobFailure (a bug, Redis gone mid-way) means to the caller. */
export function failureOf(error: unknown): Failure {
  return error instanceof JobFailure ? error.failure : toFailure(new ServiceError("internal_error"));
}
