import type { ServerResponse } from "node:http";
import type { FileStore } from "../file-store.js";
import { sendError, sendJson } from "../http-io.js";
import { generationResponseBody, parseGenerationRequest, type ResponseItem } from "../protocol.js";
import type { SyncDialect } from "./dialect.js";

/** Alternates the two ways a broken upstream lies: cut-off JSON, and valid JSON of the wrong shape. */
function garbageBody(sequence: number): string {
  return sequence % 2 === 0
    ? '{"created":1700000000,"data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAA'
    : '{"object":"list","results":[{"image":"not an image"}],"status":"done"}';
}

/** `POST /v1/images/generations` in OpenAI's words (errors in its `{error: {...}}` envelope). */
export function createOpenAiDialect(files: FileStore): SyncDialect {
  return {
    name: "openai",
    parse: parseGenerationRequest,
    send(res: ServerResponse, reply) {
      switch (reply.kind) {
        case "ok": {
          const items: ResponseItem[] = reply.images.map((image) =>
            reply.request.responseFormat === "b64_json"
              ? { b64Json: image.b64 }
              : { url: `http://${reply.host}/files/${files.put(image.bytes)}.png` },
          );
          return sendJson(res, 200, generationResponseBody(Math.floor(Date.now() / 1000), items, reply.revisedPrompt));
        }
        case "unauthorized":
          return sendError(res, 401, "Incorrect API key provided.", "invalid_request_error", { code: "invalid_api_key" });
        case "tooLarge":
          return sendError(res, 413, `request body exceeds ${reply.limitBytes} bytes`, "invalid_request_error");
        case "badRequest":
          return sendError(res, 400, reply.message, "invalid_request_error", { param: reply.param });
        case "busy":
          return sendError(res, 429, `all ${reply.slots} GPU slots are busy`, "requests", {
            code: "rate_limit_exceeded",
            headers: { "retry-after": String(reply.retryAfterSeconds) },
          });
        case "rateLimit":
          return sendError(res, 429, reply.message, "requests", {
            code: "rate_limit_exceeded",
            headers: { "retry-after": String(reply.retryAfterSeconds) },
          });
        case "error":
          return sendError(res, reply.status, reply.message, "server_error");
        case "garbage":
          return sendJson(res, 200, garbageBody(reply.sequence));
      }
    },
  };
}
