import { createUpstreamHttp, decodeImage, httpStatusError, isSuccess, parseReply, transportError, type HttpReply } from "../http.js";
import { imageContentType, UpstreamAttemptError, type GeneratedImage, type ImageUpstream } from "../upstream.js";
import { openAiEditForm } from "./edit-form.js";
import { openAiStandardFields } from "./standard-fields.js";
import { readImageStream } from "./stream.js";
import { errorMessageOf, openAiImagesResponseSchema, type OpenAiImageItem } from "./response.js";

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

  async function toImage(item: OpenAiImageItem, signal: AbortSignal): Promise<GeneratedImage> {
    if (item.b64_json !== undefined) return { ...decodeImage(item.b64_json), revisedPrompt: item.revised_prompt ?? undefined };
    const bytes = await fetchLinkedImage(item.url!, signal);
    const contentType = imageContentType(bytes);
    if (!contentType) throw new UpstreamAttemptError("invalid_response", "upstream returned bytes that are not an image");
    return { bytes, contentType, revisedPrompt: item.revised_prompt ?? undefined };
  }

  async function parseImages(reply: HttpReply, signal: AbortSignal): Promise<GeneratedImage[]> {
    if (!isSuccess(reply)) throw httpStatusError(reply, errorMessageOf(reply.body.toString("utf8")));
    const parsed = parseReply(reply, openAiImagesResponseSchema);
    const images = await Promise.all(parsed.data.map((item) => toImage(item, signal)));
    if (parsed.usage !== undefined && images[0] !== undefined) images[0].usage = parsed.usage;
    return images;
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
        return readImageStream(await http.postStreaming(path, signal, body), partials, (reply) => parseImages(reply, signal), signal);
      }
      return parseImages(body instanceof FormData ? await http.postForm(path, signal, body) : await http.request("POST", path, signal, body), signal);
    },
    async probe(signal) {
      // Listing models is free on every compatible server and proves the API is up.
      const reply = await http.request("GET", "/v1/models", signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, errorMessageOf(reply.body.toString("utf8")));
    },
    close: () => http.close(),
  };
}
