import { z } from "zod";
import { failureSchema } from "../basics/failure.js";
import { RESPONSE_FORMATS, storedImageSchema } from "../basics/images.js";

/**
 * How a batch line's outcome is kept: image references, never links or
 * bytes. The output and error files store these lines; OpenAI's output lines
 * are rendered from them when a file is downloaded.
 */
export const batchLineOutcomeSchema = z.discriminatedUnion("outcome", [
  z.object({
    outcome: z.literal("succeeded"),
    line: z.number().int(),
    custom_id: z.string(),
    request_id: z.string(),
    response_format: z.enum(RESPONSE_FORMATS),
    created: z.number().int(),
    images: z.array(storedImageSchema),
  }),
  z.object({
    outcome: z.literal("failed"),
    line: z.number().int(),
    custom_id: z.string(),
    request_id: z.string(),
    failure: failureSchema,
  }),
  z.object({
    outcome: z.literal("skipped"),
    line: z.number().int(),
    custom_id: z.string(),
    /** OpenAI's codes for lines that never ran. */
    reason: z.enum(["batch_cancelled", "batch_expired"]),
  }),
]);
export type BatchLineOutcome = z.infer<typeof batchLineOutcomeSchema>;
