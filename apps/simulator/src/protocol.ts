import { z } from "zod";
import type { EditInput } from "./edit-image.js";

// The OpenAI images protocol as LocalAI, vLLM and hosted providers speak it:
// https://platform.openai.com/docs/api-reference/images/create
export const MAX_IMAGES_PER_REQUEST = 10;
export const MAX_IMAGE_SIDE = 4096;

const sizeSchema = z.string({ error: "size must be a string like 1024x1024" }).transform((value, ctx) => {
  const match = /^(\d{1,4})x(\d{1,4})$/.exec(value);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 1 || height < 1 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    ctx.issues.push({
      code: "custom",
      input: value,
      message: `size must be WxH with each side 1..${MAX_IMAGE_SIDE}, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return { width, height };
});

// Clients differ on whether an unset optional is omitted or sent as null; accept both.
// Any other parameter (quality, style, user, ...) is accepted and ignored.
export const generationRequestSchema = z.looseObject({
  model: z.string({ error: "model must be a string" }).nullish(),
  prompt: z.string({ error: "prompt is required and must be a string" }).min(1, { error: "prompt must not be empty" }),
  n: z
    .number({ error: "n must be an integer" })
    .int({ error: "n must be an integer" })
    .min(1, { error: `n must be between 1 and ${MAX_IMAGES_PER_REQUEST}` })
    .max(MAX_IMAGES_PER_REQUEST, { error: `n must be between 1 and ${MAX_IMAGES_PER_REQUEST}` })
    .nullish(),
  size: sizeSchema.nullish(),
  response_format: z.enum(["url", "b64_json"], { error: "response_format must be url or b64_json" }).nullish(),
  // Only an integer seed counts; anything else falls back to the prompt hash, as a real server would ignore it.
  seed: z.unknown().optional(),
  stream: z.boolean({ error: "stream must be a boolean" }).nullish(),
  partial_images: z.number().int().min(0).max(3, { error: "partial_images must be 0..3" }).nullish(),
});

export interface GenerationRequest {
  /** Set on edits: the images to start from (and the mask), as sent. */
  edit?: EditInput | undefined;
  model: string;
  prompt: string;
  n: number;
  width: number;
  height: number;
  responseFormat: "url" | "b64_json";
  seed: unknown;
  /** OpenAI's `stream: true`: answer server-sent events, with this many partial images first. */
  stream?: { partialImages: number } | undefined;
}

export type ParseResult = { ok: true; request: GenerationRequest } | { ok: false; message: string; param: string | null };

export function parseGenerationRequest(body: unknown): ParseResult {
  const parsed = generationRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    return {
      ok: false,
      message: issue?.path.length === 0 ? "request body must be a JSON object" : (issue?.message ?? "invalid request"),
      param: typeof field === "string" ? field : null,
    };
  }
  const { model, prompt, n, size, response_format: responseFormat, seed, stream, partial_images: partialImages } = parsed.data;
  return {
    ok: true,
    request: {
      model: model ?? "sim",
      prompt,
      n: n ?? 1,
      width: size?.width ?? 1024,
      height: size?.height ?? 1024,
      responseFormat: responseFormat ?? "url",
      seed,
      ...(stream === true ? { stream: { partialImages: partialImages ?? 0 } } : {}),
    },
  };
}

export type OpenAiErrorType = "invalid_request_error" | "server_error" | "requests" | "authentication_error";

export function errorBody(message: string, type: OpenAiErrorType, param: string | null = null, code: string | null = null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

export type ResponseItem = { b64Json: string } | { url: string };

/**
 * Built by concatenation rather than JSON.stringify: base64 never needs
 * escaping, and re-scanning megabytes of it per response costs real CPU at
 * benchmark rates.
 */
export function generationResponseBody(createdSeconds: number, items: ResponseItem[], revisedPrompt: string | null): string {
  const revised = revisedPrompt === null ? "" : `,"revised_prompt":${JSON.stringify(revisedPrompt)}`;
  const data = items.map((item) =>
    "b64Json" in item ? `{"b64_json":"${item.b64Json}"${revised}}` : `{"url":${JSON.stringify(item.url)}${revised}}`,
  );
  return `{"created":${createdSeconds},"data":[${data.join(",")}]}`;
}

export const MODELS_BODY = JSON.stringify({
  object: "list",
  data: [{ id: "sim", object: "model", created: 0, owned_by: "simulator" }],
});
