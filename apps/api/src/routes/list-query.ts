import { z } from "zod";

/** OpenAI's cursor pagination of lists: `limit` (1-100, default 20) and `after` (the last id of the previous page). */
export const listQuerySchema = z.object({
  limit: z.coerce.number({ error: "limit must be a number" }).int().min(1).max(100).default(20),
  after: z.string().max(200).optional(),
});

/** OpenAI's list shape around a page of objects. */
export function listPage<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}
