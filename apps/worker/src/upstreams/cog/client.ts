import { createUpstreamHttp, decodeImage, httpStatusError, isSuccess, messageFrom, parseReply, parseSize, transportError } from "../http.js";
import { dataUri, whiteMaskFromTransparent } from "../../images/mask.js";
import { imageContentType, UpstreamAttemptError, type GeneratedImage, type ImageUpstream, type UpstreamImageRequest } from "../upstream.js";
import { cogErrorMessage, cogErrorSchema, cogHealthSchema, cogPredictionSchema } from "./response.js";

export interface CogUpstreamOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  connections: number;
}

/** Our parameter names where Cog's diffusion models (SDXL, SD 3, Flux...) name the input differently. */
const RENAMED_INPUTS: ReadonlyMap<string, string> = new Map([["steps", "num_inference_steps"]]);

export async function cogPredictionBody(request: UpstreamImageRequest): Promise<{ input: Record<string, unknown> }> {
  const { width, height } = parseSize(request.size);
  const inputs = Object.fromEntries(Object.entries(request.parameters).map(([name, value]) => [RENAMED_INPUTS.get(name) ?? name, value]));
  // Cog's Path inputs take data URIs; inpainting models read white as "repaint".
  const image = request.edit?.images[0];
  const mask = request.edit?.mask === undefined ? undefined : await whiteMaskFromTransparent(request.edit.mask.bytes);
  return {
    input: {
      ...inputs,
      prompt: request.prompt,
      width,
      height,
      num_outputs: request.n,
      ...(image === undefined ? {} : { image: dataUri(image.bytes, image.contentType) }),
      ...(mask === undefined ? {} : { mask: dataUri(mask, "image/png") }),
    },
  };
}

/**
 * A Replicate Cog container (`cog serve`, or any image pushed to Replicate
 * run locally): `POST /predictions` with `{input}`. Chosen as the third
 * protocol because Cog is how most open image models are packaged for
 * self-hosting and for Replicate, it has a real readiness endpoint
 * (`/health-check`) and an explicit busy answer (409), which is what
 * routing and health need.
 */
export function createCogUpstream(options: CogUpstreamOptions): ImageUpstream {
  const http = createUpstreamHttp({
    baseUrl: options.baseUrl,
    connections: options.connections,
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
  });

  async function toImage(output: string, signal: AbortSignal): Promise<GeneratedImage> {
    if (output.startsWith("data:")) return decodeImage(output);
    if (!/^https?:\/\//.test(output)) throw new UpstreamAttemptError("invalid_response", "cog output is neither a data URI nor a link");
    try {
      const response = await fetch(output, { signal });
      if (!response.ok) throw new UpstreamAttemptError("http", `image link answered ${response.status}`, { status: response.status });
      const bytes = Buffer.from(await response.arrayBuffer());
      const contentType = imageContentType(bytes);
      if (!contentType) throw new UpstreamAttemptError("invalid_response", "upstream returned bytes that are not an image");
      return { bytes, contentType };
    } catch (error) {
      throw transportError(error, signal);
    }
  }

  return {
    name: options.name,
    protocol: "cog",
    async generate(request, signal) {
      const reply = await http.request("POST", "/predictions", signal, await cogPredictionBody(request));
      if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, cogErrorSchema, cogErrorMessage));
      const prediction = parseReply(reply, cogPredictionSchema);
      if (prediction.status !== "succeeded") {
        // A failed prediction is the model's own fault (OOM, a crash in
        // predict()); like a 500, worth another GPU.
        throw new UpstreamAttemptError("http", `prediction ${prediction.status}`, {
          status: 500,
          upstreamMessage: prediction.error ?? undefined,
        });
      }
      const outputs = prediction.output == null ? [] : Array.isArray(prediction.output) ? prediction.output : [prediction.output];
      if (outputs.length === 0) throw new UpstreamAttemptError("invalid_response", "prediction succeeded without output");
      return Promise.all(outputs.map((output) => toImage(output, signal)));
    },
    async probe(signal) {
      const reply = await http.request("GET", "/health-check", signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, cogErrorSchema, cogErrorMessage));
      const { status } = parseReply(reply, cogHealthSchema);
      if (status !== "READY" && status !== "BUSY") {
        throw new UpstreamAttemptError("http", `cog reports ${status}`, { status: 503, upstreamMessage: status });
      }
    },
    close: () => http.close(),
  };
}
