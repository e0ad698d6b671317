import { Pool, errors as undiciErrors } from "undici";
import { parseRetryAfterMs } from "../retry-after.js";
import {
  imageContentType,
  UpstreamAttemptError,
  type GeneratedImage,
  type ImageUpstream,
  type UpstreamImageRequest,
} from "../upstream.js";
import { errorMessageOf, openAiImagesResponseSchema } from "./response.js";

export interface OpenAiUpstreamOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  /** Connections kept to the server; one per GPU slot is enough. */
  connections: number;
  /** Largest reply we accept, so a broken server cannot exhaust memory. */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * The OpenAI-compatible images protocol (`POST {base}/v1/images/generations`)
 * spoken by LocalAI, Xinference, vLLM-Omni, SGLang and hosted providers. We
 * always ask for b64_json so the image arrives in the same reply; servers
 * that answer with links anyway are followed.
 */
export function createOpenAiUpstream(options: OpenAiUpstreamOptions): ImageUpstream {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const pool = new Pool(base.origin, {
    connections: options.connections,
    // Our own AbortSignal carries the deadline; undici's timers would only
    // cut long generations short.
    headersTimeout: 0,
    bodyTimeout: 0,
    maxResponseSize: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  function attemptError(error: unknown, signal: AbortSignal): UpstreamAttemptError {
    if (error instanceof UpstreamAttemptError) return error;
    if (signal.aborted) return new UpstreamAttemptError("timeout", "upstream did not answer before the deadline", { cause: error });
    if (error instanceof undiciErrors.ResponseExceededMaxSizeError) {
      return new UpstreamAttemptError("invalid_response", "upstream reply too large", { cause: error });
    }
    return new UpstreamAttemptError("connection", `cannot reach upstream: ${(error as Error).message}`, { cause: error });
  }

  async function fetchLinkedImage(url: string, signal: AbortSignal): Promise<Buffer> {
    const response = await fetch(url, { signal });
    if (!response.ok) {
      throw new UpstreamAttemptError("http", `image link answered ${response.status}`, { status: response.status });
    }
    return Buffer.from(await response.arrayBuffer());
  }

  async function toImage(item: { b64_json?: string | undefined; url?: string | undefined; revised_prompt?: string | null | undefined }, signal: AbortSignal): Promise<GeneratedImage> {
    const bytes = item.b64_json !== undefined ? Buffer.from(item.b64_json, "base64") : await fetchLinkedImage(item.url!, signal);
    const contentType = imageContentType(bytes);
    if (!contentType) throw new UpstreamAttemptError("invalid_response", "upstream returned bytes that are not an image");
    return { bytes, contentType, revisedPrompt: item.revised_prompt ?? undefined };
  }

  return {
    name: options.name,
    protocol: "openai",
    async generate(request: UpstreamImageRequest, signal: AbortSignal): Promise<GeneratedImage[]> {
      try {
        const response = await pool.request({
          method: "POST",
          path: `${basePath}/v1/images/generations`,
          headers,
          body: JSON.stringify({
            ...request.parameters,
            model: request.model,
            prompt: request.prompt,
            n: request.n,
            size: request.size,
            response_format: "b64_json",
          }),
          signal,
        });
        const text = await response.body.text();
        if (response.statusCode < 200 || response.statusCode >= 300) {
          throw new UpstreamAttemptError("http", `upstream answered ${response.statusCode}`, {
            status: response.statusCode,
            retryAfterMs: parseRetryAfterMs(response.headers["retry-after"], Date.now()),
            upstreamMessage: errorMessageOf(text),
          });
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new UpstreamAttemptError("invalid_response", "upstream reply is not JSON", { cause: error });
        }
        const parsed = openAiImagesResponseSchema.safeParse(json);
        if (!parsed.success) {
          throw new UpstreamAttemptError("invalid_response", `upstream reply has the wrong shape: ${parsed.error.issues[0]?.message}`);
        }
        return await Promise.all(parsed.data.data.map((item) => toImage(item, signal)));
      } catch (error) {
        throw attemptError(error, signal);
      }
    },
    async close() {
      await pool.close();
    },
  };
}
