import { imageUsageSchema } from "@imagegen/shared";
import { z } from "zod";

/**
 * The reply of an OpenAI-compatible server. Servers differ in extras (usage,
 * output_format...), so unknown fields are allowed; what we rely on is not.
 */
const openAiImageItemSchema = z
  .object({
    b64_json: z.string().min(1).optional(),
    url: z.url().optional(),
    revised_prompt: z.string().nullish(),
  })
  .refine((item) => item.b64_json !== undefined || item.url !== undefined, "each item needs b64_json or url");
export type OpenAiImageItem = z.infer<typeof openAiImageItemSchema>;

export const openAiImagesResponseSchema = z.object({
  created: z.number().optional(),
  data: z.array(openAiImageItemSchema).min(1),
  // Kept only when it has OpenAI's shape: a server's own idea of usage is not worth failing the images for.
  usage: imageUsageSchema.optional().catch(undefined),
});
export type OpenAiImagesResponse = z.infer<typeof openAiImagesResponseSchema>;

/** OpenAI's error envelope, also used by most compatible servers. */
export const openAiErrorSchema = z.object({
  error: z.object({ message: z.string() }).or(z.string()),
});

export function errorMessageOf(body: string): string | undefined {
  try {
    const parsed = openAiErrorSchema.safeParse(JSON.parse(body));
    if (!parsed.success) return undefined;
    return typeof parsed.data.error === "string" ? parsed.data.error : parsed.data.error.message;
  } catch {
    return undefined;
  }
}
