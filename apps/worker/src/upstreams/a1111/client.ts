import { createUpstreamHttp, decodeImage, httpStatusError, isSuccess, messageFrom, parseReply, parseSize } from "../http.js";
import { A1111_QUALITY_STEPS } from "@imagegen/shared";
import { whiteMaskFromTransparent } from "../../images/mask.js";
import { sleepFor } from "../retry.js";
import type { EditInputs, ImageUpstream, UpstreamImageRequest, UpstreamPartials } from "../upstream.js";
import { a1111ErrorMessage, a1111ErrorSchema, a1111ProgressSchema, a1111Txt2ImgResponseSchema } from "./response.js";

export interface A1111UpstreamOptions {
  name: string;
  baseUrl: string;
  /** `--api-auth user:password`, sent as HTTP Basic. */
  apiKey?: string | undefined;
  /** Checkpoint to switch to per request (`sd_model_checkpoint`); unset: whatever the server has loaded. */
  checkpoint?: string | undefined;
  connections: number;
  /** How often a streaming request asks `/sdapi/v1/progress` for a preview (default 250 ms). */
  progressPollMs?: number;
}

/** Our parameter names where the WebUI calls them differently. */
const RENAMED_PARAMETERS: ReadonlyMap<string, string> = new Map([
  ["guidance_scale", "cfg_scale"],
  ["sampler", "sampler_name"],
]);

/**
 * img2img: txt2img's fields plus the input images and the mask (white =
 * repaint). `strength` (a card parameter) is the WebUI's denoising_strength;
 * without it, input_fidelity "high" keeps closer to the input.
 */
export async function a1111Img2ImgBody(request: UpstreamImageRequest & { edit: EditInputs }, checkpoint: string | undefined): Promise<Record<string, unknown>> {
  const { strength, ...rest } = request.parameters;
  const mask = request.edit.mask === undefined ? undefined : await whiteMaskFromTransparent(request.edit.mask.bytes);
  return {
    ...a1111Txt2ImgBody({ ...request, parameters: rest }, checkpoint),
    init_images: request.edit.images.map((image) => image.bytes.toString("base64")),
    ...(mask === undefined ? {} : { mask: mask.toString("base64") }),
    denoising_strength: typeof strength === "number" ? strength : request.options?.inputFidelity === "high" ? 0.45 : 0.75,
  };
}

export function a1111Txt2ImgBody(request: UpstreamImageRequest, checkpoint: string | undefined): Record<string, unknown> {
  const { width, height } = parseSize(request.size);
  const parameters = Object.fromEntries(
    Object.entries(request.parameters).map(([name, value]) => [RENAMED_PARAMETERS.get(name) ?? name, value]),
  );
  // The WebUI has no quality knob; OpenAI's quality becomes a step count unless the caller chose steps.
  const qualitySteps = request.options?.quality === undefined ? undefined : A1111_QUALITY_STEPS[request.options.quality];
  return {
    ...(qualitySteps === undefined ? {} : { steps: qualitySteps }),
    // Other declared parameters (steps, scheduler, ...) keep their WebUI names.
    ...parameters,
    prompt: request.prompt,
    width,
    height,
    // One batch of n on one GPU, not n sequential iterations.
    batch_size: request.n,
    n_iter: 1,
    // -1 is the WebUI's "random".
    seed: parameters.seed ?? -1,
    send_images: true,
    save_images: false,
    ...(checkpoint === undefined ? {} : { override_settings: { sd_model_checkpoint: checkpoint }, override_settings_restore_afterwards: false }),
  };
}

/**
 * AUTOMATIC1111 stable-diffusion-webui and its API-compatible forks (Forge,
 * SD.Next) started with `--api`: `POST /sdapi/v1/txt2img`.
 */
export function createA1111Upstream(options: A1111UpstreamOptions): ImageUpstream {
  const http = createUpstreamHttp({
    baseUrl: options.baseUrl,
    connections: options.connections,
    ...(options.apiKey ? { headers: { authorization: `Basic ${Buffer.from(options.apiKey).toString("base64")}` } } : {}),
  });
  /** Polls `/sdapi/v1/progress` and hands each new `current_image` on, until stopped or `count` are sent. */
  async function relayProgress(partials: UpstreamPartials, stop: AbortSignal): Promise<void> {
    let sent = 0;
    let last: string | undefined;
    while (sent < partials.count && !stop.aborted) {
      await sleepFor(options.progressPollMs ?? 250, stop).catch(() => undefined);
      if (stop.aborted) return;
      const reply = await http.request("GET", "/sdapi/v1/progress?skip_current_image=false", stop).catch(() => undefined);
      if (reply === undefined || !isSuccess(reply)) continue;
      const progress = messageFrom(reply, a1111ProgressSchema, (body) => body.current_image ?? undefined);
      if (progress === undefined || progress === last || stop.aborted) continue;
      last = progress;
      try {
        partials.emit(decodeImage(progress).bytes);
        sent++;
      } catch {
        // A preview that is not an image is skipped; the final image is what counts.
      }
    }
  }

  return {
    name: options.name,
    protocol: "a1111",
    async generate(request, signal) {
      const { edit, partials } = request;
      const running = new AbortController();
      // Previews come from the progress endpoint while the generation runs; one WebUI runs one job at a time.
      const relaying = partials === undefined || partials.count === 0 ? undefined : relayProgress(partials, AbortSignal.any([signal, running.signal]));
      const reply = await (
        edit === undefined
          ? http.request("POST", "/sdapi/v1/txt2img", signal, a1111Txt2ImgBody(request, options.checkpoint))
          : a1111Img2ImgBody({ ...request, edit }, options.checkpoint).then((body) => http.request("POST", "/sdapi/v1/img2img", signal, body))
      ).finally(() => running.abort());
      await relaying;
      if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, a1111ErrorSchema, a1111ErrorMessage));
      const { images } = parseReply(reply, a1111Txt2ImgResponseSchema);
      // With "return grid" on in the server's settings a batch also brings a
      // grid image, first; the batch itself is the last n.
      return images.slice(-request.n).map((image) => decodeImage(image));
    },
    async probe(signal) {
      // Progress is a memory read in the WebUI: no model work, and it answers while a job runs.
      const reply = await http.request("GET", "/sdapi/v1/progress?skip_current_image=true", signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, a1111ErrorSchema, a1111ErrorMessage));
    },
    close: () => http.close(),
  };
}
