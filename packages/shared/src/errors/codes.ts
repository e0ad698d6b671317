/**
 * Every failure the service can report to a caller, by its public `code`.
 * The first five come from the published API contract; the rest cover our own
 * faults and upstream faults the contract leaves open (garbage, timeouts).
 */
export const ERROR_CODES = [
  "invalid_payload",
  "request_timeout",
  "unauthorized",
  "forbidden",
  "not_found",
  "model_not_found",
  "conflict",
  "rate_limited",
  "internal_error",
  "upstream_invalid_response",
  "upstream_unavailable",
  "service_unavailable",
  "upstream_timeout",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
