import type { ErrorCode } from "@imagegen/shared";
import type { AttemptVerdict } from "./circuit-breaker.js";
import type { UpstreamAttemptError, UpstreamFailureKind } from "./upstream.js";

/**
 * What a failed upstream attempt means, decided once: whether another
 * attempt may help, what it says about the upstream's health (its circuit
 * breaker), and what the caller is told if it is the last one. The retry
 * loop, the router's breaker bookkeeping and the public error mapping all
 * read this table, so they cannot disagree.
 */
export interface AttemptFailureMeaning {
  /** Overload and transient faults are worth another attempt; the caller's own mistakes are not. */
  retryable: boolean;
  /** "neutral": the upstream is fine (back-pressure, or the request itself was at fault). */
  breaker: Exclude<AttemptVerdict, "success">;
  /** Public error code when this is the final failure. */
  code: ErrorCode;
  /** Pass the upstream's Retry-After on to the caller. */
  retryAfter: boolean;
  /** Quote the upstream's own message to the caller (it explains what to change). */
  upstreamMessage: boolean;
}

const meaning = (
  retryable: boolean,
  breaker: AttemptFailureMeaning["breaker"],
  code: ErrorCode,
  extra: { retryAfter?: boolean; upstreamMessage?: boolean } = {},
): AttemptFailureMeaning => ({ retryable, breaker, code, retryAfter: extra.retryAfter ?? false, upstreamMessage: extra.upstreamMessage ?? false });

/** Failures below HTTP: no status to read. */
export const TRANSPORT_FAILURES: Readonly<Record<Exclude<UpstreamFailureKind, "http">, AttemptFailureMeaning>> = {
  connection: meaning(true, "failure", "upstream_unavailable"),
  timeout: meaning(true, "failure", "upstream_timeout"),
  // Garbage is not retried on the same upstream (the retry loop may still fail over to another).
  invalid_response: meaning(false, "failure", "upstream_invalid_response"),
};

export interface HttpStatusRow {
  /** Statuses the row covers: a list, or an inclusive range. */
  statuses: readonly number[] | { from: number; to: number };
  meaning: AttemptFailureMeaning;
}

/** Non-2xx answers, first matching row wins; a status no row covers gets HTTP_OTHER. */
export const HTTP_STATUS_TABLE: readonly HttpStatusRow[] = [
  // The upstream refused what the caller asked for (e.g. a content policy):
  // the caller's to fix, says nothing about the server, and its words are the useful part.
  { statuses: [400, 413, 422], meaning: meaning(false, "neutral", "invalid_payload", { upstreamMessage: true }) },
  { statuses: [408], meaning: meaning(true, "failure", "upstream_timeout") },
  // Back-pressure: Retry-After paces the retry; the server itself is healthy.
  { statuses: [429], meaning: meaning(true, "neutral", "upstream_unavailable", { retryAfter: true }) },
  // Our credentials or route are wrong for this server: another try will not help, other servers might.
  { statuses: [401, 403, 404], meaning: meaning(false, "failure", "upstream_unavailable", { retryAfter: true }) },
  { statuses: { from: 500, to: Number.MAX_SAFE_INTEGER }, meaning: meaning(true, "failure", "upstream_unavailable", { retryAfter: true }) },
];

/** Any other status (3xx, other 4xx, or none at all): a server that does not speak the protocol. */
export const HTTP_OTHER: AttemptFailureMeaning = meaning(false, "failure", "upstream_invalid_response");

function covers(row: HttpStatusRow, status: number): boolean {
  const { statuses } = row;
  return "from" in statuses ? status >= statuses.from && status <= statuses.to : statuses.includes(status);
}

export function meaningOfStatus(status: number): AttemptFailureMeaning {
  return HTTP_STATUS_TABLE.find((row) => covers(row, status))?.meaning ?? HTTP_OTHER;
}

export function meaningOf(error: UpstreamAttemptError): AttemptFailureMeaning {
  return error.kind === "http" ? meaningOfStatus(error.details.status ?? 0) : TRANSPORT_FAILURES[error.kind];
}
