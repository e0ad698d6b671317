import { z } from "zod";

/**
 * ComfyUI's HTTP API (server.py): `POST /prompt` queues a workflow,
 * `GET /history/{id}` is `{}` until it finished, then holds its outputs,
 * `GET /view` serves each image.
 */
export const comfyQueuedSchema = z.object({
  prompt_id: z.string().min(1),
  number: z.number().optional(),
  node_errors: z.record(z.string(), z.unknown()).optional(),
});

/** `POST /prompt` refusals (400): `{"error": {"type", "message", "details"}, "node_errors": {...}}`. */
export const comfyErrorSchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string(), details: z.string().optional() }).loose()]),
});

export function comfyErrorMessage(body: z.infer<typeof comfyErrorSchema>): string {
  if (typeof body.error === "string") return body.error;
  return body.error.details ? `${body.error.message}: ${body.error.details}` : body.error.message;
}

const comfyImageRefSchema = z.object({
  filename: z.string().min(1),
  subfolder: z.string().default(""),
  type: z.string().default("output"),
});
export type ComfyImageRef = z.infer<typeof comfyImageRefSchema>;

const comfyHistoryEntrySchema = z.object({
  outputs: z.record(z.string(), z.object({ images: z.array(comfyImageRefSchema).optional() }).loose()).default({}),
  status: z
    .object({
      status_str: z.string(),
      completed: z.boolean(),
      // [["execution_error", {"exception_message": ...}], ...]
      messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
    })
    .optional(),
});
export type ComfyHistoryEntry = z.infer<typeof comfyHistoryEntrySchema>;

export const comfyHistorySchema = z.record(z.string(), comfyHistoryEntrySchema);

export function executionErrorOf(entry: ComfyHistoryEntry): string | undefined {
  for (const [kind, data] of entry.status?.messages ?? []) {
    if (kind !== "execution_error") continue;
    const message = z.object({ exception_message: z.string() }).safeParse(data);
    return message.success ? message.data.exception_message : "execution error";
  }
  return entry.status?.status_str === "error" ? "execution error" : undefined;
}

/** `POST /upload/image`: where ComfyUI put the file (its name may differ from the one sent). */
export const comfyUploadSchema = z.object({ name: z.string().min(1), subfolder: z.string().optional(), type: z.string().optional() });
