import { z } from "zod";

/**
 * AUTOMATIC1111 / Forge / SD.Next `POST /sdapi/v1/txt2img` reply
 * (modules/api/models.py, TextToImageResponse): base64 PNGs without a data
 * URI prefix, the effective parameters, and `info` as a JSON string.
 */
export const a1111Txt2ImgResponseSchema = z.object({
  images: z.array(z.string().min(1)).min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  info: z.string().optional(),
});

/**
 * Its error bodies: the API's exception handler answers
 * `{"error", "detail", "body", "errors"}` (500s, e.g. CUDA out of memory);
 * FastAPI's own are `{"detail": "..."}` or, for validation (422),
 * `{"detail": [{"loc", "msg", "type"}]}`.
 */
export const a1111ErrorSchema = z.object({
  error: z.string().optional(),
  errors: z.string().optional(),
  detail: z.union([z.string(), z.array(z.object({ msg: z.string() }).loose())]).optional(),
});

export function a1111ErrorMessage(body: z.infer<typeof a1111ErrorSchema>): string | undefined {
  if (body.errors) return body.errors;
  if (typeof body.detail === "string" && body.detail) return body.detail;
  if (Array.isArray(body.detail) && body.detail[0]) return body.detail[0].msg;
  return body.error;
}

/** `GET /sdapi/v1/progress`: how far the running job is, and its preview (base64 PNG) unless skipped. */
export const a1111ProgressSchema = z.looseObject({
  progress: z.number().optional(),
  current_image: z.string().nullish(),
});
