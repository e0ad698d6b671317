import { z } from "zod";
import { OUTPUT_FORMATS } from "./image-options.js";

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

/** Token counts, only when the upstream reported them (OpenAI's ImagesResponse.usage). */
export const imageUsageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  input_tokens_details: z.object({ image_tokens: z.number().int().nonnegative(), text_tokens: z.number().int().nonnegative() }).optional(),
});
export type ImageUsage = z.infer<typeof imageUsageSchema>;

/** The metadata of OpenAI's ImagesResponse besides `created` and `data`; each field only when known. */
export const imagesResponseMetadataSchema = z.object({
  size: z.string().optional(),
  output_format: z.enum(OUTPUT_FORMATS).optional(),
  quality: z.string().optional(),
  background: z.enum(["transparent", "opaque"]).optional(),
  safety_identifier: z.string().optional(),
  usage: imageUsageSchema.optional(),
});
export type ImagesResponseMetadata = z.infer<typeof imagesResponseMetadataSchema>;

/** What one generation produced: references to its stored images. */
export const generateImageResultSchema = z.object({
  created: z.number().int(),
  upstream: z.string(),
  images: z.array(storedImageSchema).min(1),
  /** Known once the images are made (absent on results recorded before it existed). */
  response: imagesResponseMetadataSchema.optional(),
});
export type GenerateImageResult = z.infer<typeof generateImageResultSchema>;
