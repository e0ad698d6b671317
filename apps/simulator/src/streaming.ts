import type { ServerResponse } from "node:http";
import sharp from "sharp";
import type { SimCore } from "./core.js";
import type { GenerationRequest } from "./protocol.js";

/**
 * A preview as diffusion servers show one mid-run: the final picture at a
 * coarse resolution, finer at each stage (stage 0 of 3 is the blockiest).
 */
export async function previewOf(png: Buffer, stage: number, stages: number): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(png).metadata();
  const factor = 2 ** (stages - stage + 1);
  const small = await sharp(png)
    .resize(Math.max(1, Math.round(width / factor)), Math.max(1, Math.round(height / factor)))
    .png()
    .toBuffer();
  return sharp(small).resize(width, height, { kernel: "nearest" }).png({ compressionLevel: 1 }).toBuffer();
}

/**
 * OpenAI's image stream: `partial_images` previews spread over the
 * simulated GPU time, then one `….completed` event per image (with token
 * usage, as OpenAI's GPT image models report it). A caller that hangs up
 * stops the run and frees its slot.
 */
export function streamImages(
  res: ServerResponse,
  core: SimCore,
  request: GenerationRequest & { stream: { partialImages: number } },
  delayMs: number,
  release: () => void,
): void {
  const type = request.edit === undefined ? "image_generation" : "image_edit";
  const size = `${request.width}x${request.height}`;
  const common = { size, quality: "auto", background: "opaque", output_format: "png" };
  const timers: NodeJS.Timeout[] = [];
  res.once("close", () => timers.forEach(clearTimeout));
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (event: string, data: object) => {
    if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, created_at: Math.floor(Date.now() / 1000), ...common, ...data })}\n\n`);
  };
  const first = core.firstImage(request);
  first.catch(() => undefined);
  const stages = request.stream.partialImages;
  const sent: Promise<void>[] = [];
  for (let index = 0; index < stages; index++) {
    sent.push(
      new Promise<void>((resolve) => {
        timers.push(setTimeout(resolve, Math.floor((delayMs * (index + 1)) / (stages + 1))));
      })
        .then(() => first)
        .then((png) => previewOf(png, index, stages))
        .then((preview) => send(`${type}.partial_image`, { b64_json: preview.toString("base64"), partial_image_index: index }))
        .catch(() => undefined),
    );
  }
  timers.push(
    setTimeout(() => {
      release();
      // Previews first, in order, then the final image.
      Promise.all(sent).then(() => core.produce(request)).then(
        (images) => {
          core.count("ok");
          const inputTokens = Math.ceil(request.prompt.length / 4);
          for (const image of images) {
            send(`${type}.completed`, { b64_json: image.b64, usage: { input_tokens: inputTokens, input_tokens_details: { image_tokens: 0, text_tokens: inputTokens }, output_tokens: 272, total_tokens: inputTokens + 272 } });
          }
          res.end();
        },
        (error: unknown) => {
          core.count("badRequest");
          if (!res.writableEnded) res.end(`event: error\ndata: ${JSON.stringify({ error: { message: error instanceof Error ? error.message : String(error), type: "invalid_request_error" } })}\n\n`);
        },
      );
    }, delayMs),
  );
}
