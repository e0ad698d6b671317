import type { ServerResponse } from "node:http";
import { z } from "zod";
import { MAX_EDIT_BODY_BYTES, readJsonBody, sendJson } from "../http-io.js";
import { MAX_IMAGE_SIDE, MAX_IMAGES_PER_REQUEST, type ParseResult } from "../protocol.js";
import type { SyncDialect } from "./dialect.js";

/**
 * AUTOMATIC1111 / Forge / SD.Next `POST /sdapi/v1/txt2img` (modules/api/api.py).
 * Replies carry base64 PNGs without a data URI prefix and `info` as a JSON
 * string. Errors: FastAPI's 422 `{"detail": [{loc, msg, type}]}`, and the
 * WebUI's exception handler's `{"error", "detail", "body", "errors"}`.
 * The WebUI has no overload status of its own (it queues behind one GPU
 * lock); over its slots this simulator answers 503 with Retry-After, and
 * injected overload 429, as the reverse proxy in front of a shared WebUI does.
 */
const side = z.number().int().min(8).max(MAX_IMAGE_SIDE);
const txt2imgSchema = z.looseObject({
  prompt: z.string().default(""),
  negative_prompt: z.string().default(""),
  width: side.default(512),
  height: side.default(512),
  batch_size: z.number().int().min(1).max(MAX_IMAGES_PER_REQUEST).default(1),
  n_iter: z.number().int().min(1).max(MAX_IMAGES_PER_REQUEST).default(1),
  seed: z.number().int().default(-1),
  steps: z.number().int().min(1).max(150).default(20),
  cfg_scale: z.number().default(7),
  sampler_name: z.string().default("Euler a"),
  override_settings: z.record(z.string(), z.unknown()).default({}),
});

function parse(body: unknown): ParseResult {
  const parsed = txt2imgSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    return { ok: false, message: issue?.message ?? "invalid request", param: typeof field === "string" ? field : null };
  }
  const request = parsed.data;
  if (request.prompt.length === 0) return { ok: false, message: "prompt must not be empty", param: "prompt" };
  const checkpoint = request.override_settings.sd_model_checkpoint;
  return {
    ok: true,
    request: {
      model: typeof checkpoint === "string" ? checkpoint : "sim",
      prompt: request.prompt,
      n: Math.min(MAX_IMAGES_PER_REQUEST, request.batch_size * request.n_iter),
      width: request.width,
      height: request.height,
      responseFormat: "b64_json",
      // -1 is the WebUI's "random": the prompt hash stands in for it.
      seed: request.seed >= 0 ? request.seed : undefined,
    },
  };
}

function exceptionBody(error: string, message: string): string {
  return JSON.stringify({ error, detail: "", body: "", errors: message });
}

/**
 * `POST /sdapi/v1/img2img`: txt2img's fields plus `init_images` (base64, a
 * data URI prefix allowed), `mask` (white = repaint) and
 * `denoising_strength`. Replies as txt2img does.
 */
const base64Image = z.string().min(1).transform((value) => Buffer.from(value.replace(/^data:[^,]*,/, ""), "base64"));
const img2imgSchema = z.looseObject({
  init_images: z.array(base64Image).min(1, { error: "init_images needs at least one image" }),
  mask: base64Image.nullish(),
  denoising_strength: z.number().min(0).max(1).default(0.75),
});

function parseImg2Img(body: unknown): ParseResult {
  const images = img2imgSchema.safeParse(body);
  if (!images.success) {
    const issue = images.error.issues[0];
    return { ok: false, message: issue?.message ?? "invalid request", param: typeof issue?.path[0] === "string" ? issue.path[0] : null };
  }
  const parsed = parse(body);
  if (!parsed.ok) return parsed;
  return { ok: true, request: { ...parsed.request, edit: { images: images.data.init_images, mask: images.data.mask ?? undefined, maskMode: "white" } } };
}

export function createA1111Img2ImgDialect(): SyncDialect {
  return { ...createA1111Dialect(), name: "a1111-img2img", readBody: (req) => readJsonBody(req, MAX_EDIT_BODY_BYTES), parse: parseImg2Img };
}

export function createA1111Dialect(): SyncDialect {
  return {
    name: "a1111",
    parse,
    send(res: ServerResponse, reply) {
      switch (reply.kind) {
        case "ok": {
          const seed = typeof reply.request.seed === "number" ? reply.request.seed : 0;
          const info = JSON.stringify({ prompt: reply.request.prompt, seed, all_seeds: reply.images.map((_, index) => seed + index) });
          // Base64 never needs escaping: concatenated, not re-stringified (megabytes at bench rates).
          const images = reply.images.map((image) => `"${image.b64}"`).join(",");
          return sendJson(res, 200, `{"images":[${images}],"parameters":{},"info":${JSON.stringify(info)}}`);
        }
        case "unauthorized":
          return sendJson(res, 401, JSON.stringify({ detail: "Incorrect credentials" }));
        case "tooLarge":
          return sendJson(res, 413, JSON.stringify({ detail: `request body exceeds ${reply.limitBytes} bytes` }));
        case "badRequest":
          return sendJson(res, 422, JSON.stringify({ detail: [{ loc: ["body", reply.param ?? "body"], msg: reply.message, type: "value_error" }] }));
        case "busy":
          return sendJson(res, 503, exceptionBody("ServiceUnavailable", `all ${reply.slots} GPU slots are busy`), {
            "retry-after": String(reply.retryAfterSeconds),
          });
        case "rateLimit":
          return sendJson(res, 429, exceptionBody("TooManyRequests", reply.message), { "retry-after": String(reply.retryAfterSeconds) });
        case "error":
          return sendJson(res, reply.status, exceptionBody("RuntimeError", `CUDA out of memory (simulated): ${reply.message}`));
        case "garbage":
          // Cut-off JSON, then the right shape holding something that is not a PNG.
          return sendJson(res, 200, reply.sequence % 2 === 0 ? '{"images":["iVBORw0KGgo' : '{"images":["bm90IGFuIGltYWdl"],"parameters":{},"info":"{}"}');
      }
    },
  };
}
