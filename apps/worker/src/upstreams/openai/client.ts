import { checkedImage, createUpstreamHttp, decodeImage, httpStatusError, isSuccess, parseJsonReply, transportError, type HttpReply, type StreamingReply } from "../http.js";
import { UpstreamAttemptError, type GeneratedImage, type ImageUpstream } from "../upstream.js";
import { openAiEditForm } from "./edit-form.js";
import { openAiStandardFields } from "./standard-fields.js";
import { readImageStream } from "./stream.js";
import { createReplyScanner, type ScannedReply } from "./reply-scanner.js";
import { errorMessageOf, openAiImagesResponseSchema, type OpenAiImageItem } from "./response.js";

const SSE_ACCEPT = "text/event-stream, application/json";

/** The declared body size, when it is one sane number (undici enforces it and our own size cap). */
function contentLength(headers: StreamingReply["headers"]): number | undefined {
  const value = headers["content-length"];
  const bytes = typeof value === "string" ? Number(value) : NaN;
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

export interface OpenAiUpstreamOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  /** Connections kept to the server; one per GPU slot is enough. */
  connections: number;
  /** Largest reply we accept, so a broken server cannot exhaust memory. */
  maxResponseBytes?: number;
}

/**
 * The OpenAI-compatible images protocol (`POST {base}/v1/images/generations`,
 * edits as multipart to `/v1/images/edits`)
 * spoken by LocalAI, Xinference, vLLM-Omni, SGLang and hosted providers. We
 * always ask for b64_json so the image arrives in the same reply; servers
 * that answer with links anyway are followed.
 */
export function createOpenAiUpstream(options: OpenAiUpstreamOptions): ImageUpstream {
  const http = createUpstreamHttp({
    baseUrl: options.baseUrl,
    connections: options.connections,
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
    ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
  });

  async function fetchLinkedImage(url: string, signal: AbortSignal): Promise<Buffer> {
    try {
      const response = await fetch(url, { signal });
      if (!response.ok) throw new UpstreamAttemptError("http", `image link answered ${response.status}`, { status: response.status });
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw transportError(error, signal);
    }
  }

  async function toImage(item: OpenAiImageItem, streamed: Buffer | undefined, signal: AbortSignal): Promise<GeneratedImage> {
    const revisedPrompt = item.revised_prompt ?? undefined;
    if (item.b64_json === undefined) return { ...checkedImage(await fetchLinkedImage(item.url!, signal)), revisedPrompt };
    return { ...(streamed === undefined ? decodeImage(item.b64_json) : checkedImage(streamed)), revisedPrompt };
  }

  /** The reply's images: the b64_json values were decoded while it arrived, the rest is checked by the schema. */
  async function toImages(scanned: ScannedReply, signal: AbortSignal): Promise<GeneratedImage[]> {
    const parsed = parseJsonReply(scanned.skeleton, openAiImagesResponseSchema);
    const images = await Promise.all(parsed.data.map((item, index) => toImage(item, scanned.images.get(index), signal)));
    if (parsed.usage !== undefined && images[0] !== undefined) images[0].usage = parsed.usage;
    return images;
  }

  /** A reply already read whole (a server that ignored `stream`). */
  async function parseImages(reply: HttpReply, signal: AbortSignal): Promise<GeneratedImage[]> {
    if (!isSuccess(reply)) throw httpStatusError(reply, errorMessageOf(reply.body.toString("utf8")));
    const scanner = createReplyScanner();
    scanner.push(reply.body);
    return toImages(scanner.end(), signal);
  }

  /** A reply read as it arrives: a 1 MB image is decoded while its last bytes are still on the wire. */
  async function readImages(reply: StreamingReply, signal: AbortSignal): Promise<GeneratedImage[]> {
    if (!isSuccess(reply)) throw httpStatusError(reply, errorMessageOf((await reply.text()).toString("utf8")));
    const scanner = createReplyScanner({ replyBytes: contentLength(reply.headers) });
    try {
      for await (const chunk of reply.body) scanner.push(chunk);
    } catch (error) {
      throw transportError(error, signal);
    }
    return toImages(scanner.end(), signal);
  }

  return {
    name: options.name,
    protocol: "openai",
    async generate(request, signal) {
      const { edit, partials } = request;
      const path = edit === undefined ? "/v1/images/generations" : "/v1/images/edits";
      const streaming = partials !== undefined && partials.count > 0 ? { partial_images: partials.count } : undefined;
      const body =
        edit === undefined
          ? {
              ...request.parameters,
              model: request.model,
              prompt: request.prompt,
              n: request.n,
              size: request.size,
              ...openAiStandardFields(request.options),
              response_format: "b64_json",
              ...(streaming === undefined ? {} : { stream: true, ...streaming }),
            }
          : openAiEditForm({ ...request, edit }, streaming);
      if (streaming !== undefined && partials !== undefined) {
        return readImageStream(await http.postStreaming(path, signal, body, SSE_ACCEPT), partials, (reply) => parseImages(reply, signal), signal);
      }
      return readImages(await http.postStreaming(path, signal, body), signal);
    },
    async probe(signal) {
      // Listing models is free on every compatible server and proves the API is up.
      const reply = await http.request("GET", "/v1/models", signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, errorMessageOf(reply.body.toString("utf8")));
    },
    close: () => http.close(),
  };
}
