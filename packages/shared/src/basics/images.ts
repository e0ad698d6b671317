import { z } from "zod";

/**
 * The basic image types every layer speaks of: how a caller wants images
 * back, and what a generation leaves in storage. Wire shapes, records and
 * queue contracts all import them from here, so none of those imports another.
 */
export const RESPONSE_FORMATS = ["url", "b64_json"] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export const storedImageSchema = z.object({
  /** Object key in the image store; never the bytes themselves. */
  key: z.string().min(1),
  contentType: z.string(),
  byteLength: z.number().int().nonnegative(),
  revisedPrompt: z.string().optional(),
});
export type StoredImage = z.infer<typeof storedImageSchema>;

/** What one generation produced: references to its stored images. */
export const generateImageResultSchema = z.object({
  created: z.number().int(),
  upstream: z.string(),
  images: z.array(storedImageSchema).min(1),
});
export type GenerateImageResult = z.infer<typeof generateImageResultSchema>;
