import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { MAX_EDIT_BODY_BYTES, readJsonBody, sendJson } from "../http-io.js";
import { MAX_IMAGE_SIDE, MAX_IMAGES_PER_REQUEST, type ParseResult } from "../protocol.js";
import type { SyncDialect } from "./dialect.js";

/**
 * Replicate Cog (`cog serve`): `POST /predictions` with `{input: {...}}`
 * answers the finished prediction; files come back as data URIs (no upload
 * URL configured). A prediction that raised is `status: "failed"` with 200;
 * a container at capacity answers 409; FastAPI validation is 422. Injected
 * overload is 429 with Retry-After, as Replicate's hosted API throttles.
 */
const side = z.number().int().min(8).max(MAX_IMAGE_SIDE);
const predictionSchema = z.looseObject({
  id: z.string().optional(),
  input: z.looseObject({
    prompt: z.string().min(1, { error: "prompt must not be empty" }),
    width: side.default(1024),
    height: side.default(1024),
    num_outputs: z.number().int().min(1).max(MAX_IMAGES_PER_REQUEST).default(1),
    seed: z.number().int().optional(),
    // Path inputs arrive as data URIs (or links, which this simulator does not fetch).
    image: z.string().startsWith("data:", { error: "image must be a data URI" }).optional(),
    mask: z.string().startsWith("data:", { error: "mask must be a data URI" }).optional(),
  }),
});

const fromDataUri = (uri: string) => Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64");

function parse(body: unknown): ParseResult {
  const parsed = predictionSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: issue?.message ?? "invalid input", param: issue?.path.join(".") ?? null };
  }
  const { input } = parsed.data;
  return {
    ok: true,
    request: {
      model: "sim",
      prompt: input.prompt,
      n: input.num_outputs,
      width: input.width,
      height: input.height,
      responseFormat: "b64_json",
      seed: input.seed,
      ...(input.image === undefined ? {} : { edit: { images: [fromDataUri(input.image)], mask: input.mask === undefined ? undefined : fromDataUri(input.mask), maskMode: "white" as const } }),
    },
  };
}

function prediction(status: "succeeded" | "failed", output: string, error: string | null): string {
  const now = new Date().toISOString();
  const id = randomBytes(10).toString("hex");
  return `{"id":"${id}","status":"${status}","output":${output},"error":${JSON.stringify(error)},"logs":"","created_at":"${now}","completed_at":"${now}","metrics":{}}`;
}

export function createCogDialect(): SyncDialect {
  return {
    name: "cog",
    // Image inputs make predictions megabytes of data URIs.
    readBody: (req) => readJsonBody(req, MAX_EDIT_BODY_BYTES),
    parse,
    send(res: ServerResponse, reply) {
      switch (reply.kind) {
        case "ok":
          return sendJson(res, 200, prediction("succeeded", `[${reply.images.map((image) => `"data:${image.contentType};base64,${image.b64}"`).join(",")}]`, null));
        case "unauthorized":
          return sendJson(res, 401, JSON.stringify({ detail: "Unauthorized" }));
        case "tooLarge":
          return sendJson(res, 413, JSON.stringify({ detail: `request body exceeds ${reply.limitBytes} bytes` }));
        case "badRequest":
          return sendJson(res, 422, JSON.stringify({ detail: [{ loc: ["body", ...(reply.param ?? "body").split(".")], msg: reply.message, type: "value_error" }] }));
        case "busy":
          return sendJson(res, 409, JSON.stringify({ detail: "Already running a prediction" }));
        case "rateLimit":
          return sendJson(res, 429, JSON.stringify({ detail: reply.message, status: 429 }), { "retry-after": String(reply.retryAfterSeconds) });
        case "error":
          // predict() raising is a failed prediction, answered 200; other statuses are the server's own.
          return reply.status === 500
            ? sendJson(res, 200, prediction("failed", "null", `CUDA out of memory (simulated): ${reply.message}`))
            : sendJson(res, reply.status, JSON.stringify({ detail: reply.message }));
        case "garbage":
          return sendJson(res, 200, reply.sequence % 2 === 0 ? '{"status":"succeeded","output":["data:image/png;base64,iVBOR' : prediction("succeeded", '["data:image/png;base64,bm90IGFuIGltYWdl"]', null));
      }
    },
  };
}
