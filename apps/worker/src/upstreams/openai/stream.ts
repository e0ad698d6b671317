import { z } from "zod";
import { imageUsageSchema } from "@imagegen/shared";
import { decodeImage, httpStatusError, isSuccess, transportError, type HttpReply, type StreamingReply } from "../http.js";
import { readServerSentEvents } from "../../streaming/sse.js";
import { UpstreamAttemptError, type GeneratedImage, type UpstreamPartials } from "../upstream.js";
import { errorMessageOf } from "./response.js";

/**
 * OpenAI's image stream (`stream: true`): `image_generation.partial_image` /
 * `image_edit.partial_image` events carry previews, `….completed` the final
 * image (with usage when the server counts tokens), `error` a failure after
 * the stream began. A server that ignores `stream` and answers JSON is read
 * as an ordinary reply.
 */
const streamEventSchema = z.looseObject({
  type: z.string(),
  b64_json: z.string().min(1).optional(),
  usage: imageUsageSchema.optional().catch(undefined),
});
const streamErrorSchema = z.looseObject({ error: z.looseObject({ message: z.string().optional() }).optional(), message: z.string().optional() });

export async function readImageStream(
  reply: StreamingReply,
  partials: UpstreamPartials,
  readJson: (reply: HttpReply) => Promise<GeneratedImage[]>,
  signal: AbortSignal,
): Promise<GeneratedImage[]> {
  const contentType = String(reply.headers["content-type"] ?? "");
  if (reply.status < 200 || reply.status >= 300 || !contentType.startsWith("text/event-stream")) {
    const whole: HttpReply = { status: reply.status, headers: reply.headers, body: await reply.text() };
    if (!isSuccess(whole)) throw httpStatusError(whole, errorMessageOf(whole.body.toString("utf8")));
    return readJson(whole);
  }
  const images: GeneratedImage[] = [];
  let relayed = 0;
  try {
    for await (const message of readServerSentEvents(reply.body)) {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        throw new UpstreamAttemptError("invalid_response", "upstream stream event is not JSON", { cause: error });
      }
      if (message.event === "error") {
        const failure = streamErrorSchema.safeParse(data);
        const text = failure.success ? (failure.data.error?.message ?? failure.data.message) : undefined;
        throw new UpstreamAttemptError("http", "upstream stream failed", { status: 500, upstreamMessage: text });
      }
      const event = streamEventSchema.safeParse(data);
      if (!event.success || event.data.b64_json === undefined) continue;
      if (event.data.type.endsWith(".partial_image")) {
        if (relayed < partials.count) {
          relayed++;
          partials.emit(decodeImage(event.data.b64_json).bytes);
        }
      } else if (event.data.type.endsWith(".completed")) {
        images.push({ ...decodeImage(event.data.b64_json), ...(event.data.usage === undefined ? {} : { usage: event.data.usage }) });
      }
    }
  } catch (error) {
    throw error instanceof UpstreamAttemptError ? error : transportError(error, signal);
  }
  if (images.length === 0) throw new UpstreamAttemptError("invalid_response", "upstream stream ended without a completed image");
  return images;
}
