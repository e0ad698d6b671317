import type { ErrorCode } from "./codes.js";

/** OpenAI's `error.type` vocabulary, which SDKs and dashboards group by. */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "rate_limit_error"
  | "server_error"
  | "upstream_error";

export interface ErrorSpec {
  status: number;
  type: OpenAiErrorType;
  /** Message used when the failure site has nothing more specific to say. */
  message: string;
  /** Whether the same request may succeed if the caller retries it later. */
  retryable: boolean;
}

/**
 * The single map from failure code to what the caller sees. Nothing else in
 * the codebase chooses an HTTP status or error type for a failure.
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorSpec>> = {
  invalid_payload: {
    status: 400,
    type: "invalid_request_error",
    message: "The request body is invalid.",
    retryable: false,
  },
  request_timeout: {
    status: 408,
    type: "invalid_request_error",
    message: "The request was not received in time.",
    retryable: false,
  },
  unauthorized: {
    status: 401,
    type: "authentication_error",
    message: "Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.",
    retryable: false,
  },
  forbidden: {
    status: 403,
    type: "permission_error",
    message: "This link is invalid or has expired.",
    retryable: false,
  },
  not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "Not found.",
    retryable: false,
  },
  model_not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "The model does not exist or you do not have access to it.",
    retryable: false,
  },
  conflict: {
    status: 409,
    type: "invalid_request_error",
    message: "The resource already exists.",
    retryable: false,
  },
  rate_limited: {
    status: 429,
    type: "rate_limit_error",
    message: "Rate limit exceeded. Retry after the time given in the Retry-After header.",
    retryable: true,
  },
  internal_error: {
    status: 500,
    type: "server_error",
    message: "The server had an error while processing your request.",
    retryable: true,
  },
  upstream_invalid_response: {
    status: 502,
    type: "upstream_error",
    message: "The image model's server returned an invalid response.",
    retryable: true,
  },
  upstream_unavailable: {
    status: 503,
    type: "upstream_error",
    message: "No healthy upstream is available for this model. Retry with backoff.",
    retryable: true,
  },
  service_unavailable: {
    status: 503,
    type: "server_error",
    message: "The service is temporarily unavailable. Retry with backoff.",
    retryable: true,
  },
  upstream_timeout: {
    status: 504,
    type: "upstream_error",
    message: "The image model did not answer in time.",
    retryable: true,
  },
};
