/**
 * The statuses of polled work, in OpenAI's words where OpenAI has them.
 * Basic values with no Node dependency, so the records that store them and
 * the browser's client that shows them (public-api/) share one list.
 */
export const GENERATION_STATUSES = ["queued", "in_progress", "succeeded", "failed", "cancelled"] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

export const BATCH_STATUSES = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
