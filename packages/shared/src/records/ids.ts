import { randomBytes } from "node:crypto";

/**
 * Public ids: a type prefix (OpenAI's where it has one) and 96 random bits,
 * so ids can be neither guessed nor enumerated. Never used as a secret.
 */
export type IdKind = "req" | "gen" | "file" | "batch" | "batch_req" | "msg";

export function newId(kind: IdKind): string {
  const separator = kind === "file" ? "-" : "_";
  return `${kind}${separator}${randomBytes(12).toString("hex")}`;
}

/** Ids we mint, and only those, reach Redis keys. */
export const PUBLIC_ID_PATTERN = /^(req|gen|batch|batch_req|msg)_[0-9a-f]{24}$|^file-[0-9a-f]{24}$/;
