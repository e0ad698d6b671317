import { APIError } from "openai";
import { expect } from "vitest";

/** The error an openai client call failed with; fails the test if it succeeded or failed otherwise. */
export async function apiErrorOf(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}
