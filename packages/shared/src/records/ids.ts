import { randomBytes } from "node:crypto";

/**
 * Public ids: a type prefix (OpenAI's where it has one) and 96 random bits,
 * so ids can be neither guessed nor enumerated. Never used as a secret.
 */
export type IdKind = "req" | "gen" | "file" | "batch" | "batch_req" | "msg";

const separatorOf = (kind: IdKind) => (kind === "file" ? "-" : "_");

export function newId(kind: IdKind): string {
  return `${kind}${separatorOf(kind)}${randomBytes(12).toString("hex")}`;
}

const ALL_KINDS: readonly IdKind[] = ["req", "gen", "file", "batch", "batch_req", "msg"];

/**
 * Whether `id` has the shape of an id we mint of one of `kinds`. Checked
 * before an id from a URL reaches a Redis key.
 */
export function isPublicId(id: string, kinds: readonly IdKind[] = ALL_KINDS): boolean {
  const prefix = kinds.find((kind) => id.startsWith(`${kind}${separatorOf(kind)}`) && id.length === kind.length + 25);
  return prefix !== undefined && /^[0-9a-f]{24}$/.test(id.slice(prefix.length + 1));
}
