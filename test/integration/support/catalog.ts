/** Upstream behaviours the suite needs, one simulator each, and a model card per behaviour. */
export const SIMULATOR_PROFILES = {
  healthy: {},
  flaky: { faults: { failFirstAttemptsPerPrompt: 2, failStatus: 503 } },
  throttled: { faults: { failFirstAttemptsPerPrompt: 1, failStatus: 429 } },
  overloaded: { faults: { rateLimitRate: 1, retryAfterSeconds: 1 } },
  hanging: { faults: { hangRate: 1 } },
  garbage: { faults: { garbageRate: 1 } },
  slow: { latencyMs: 3000 },
  sluggish: { latencyMs: 800 },
  /** Answers JPEG, as some real servers do: callers must still get PNG by default. */
  jpeg: { imageFormat: "jpeg" },
} as const;
export type SimulatorProfile = keyof typeof SIMULATOR_PROFILES;

/** A ComfyUI inpainting graph in API format: the input image and mask come in through LoadImage nodes. */
const COMFY_INPAINT_WORKFLOW = {
  "3": { class_type: "KSampler", inputs: { seed: 1, steps: 20, cfg: 7, latent_image: ["12", 0] } },
  "5": { class_type: "EmptyLatentImage", inputs: { width: 512, height: 512, batch_size: 1 } },
  "6": { class_type: "CLIPTextEncode", inputs: { text: "" } },
  "9": { class_type: "SaveImage", inputs: { images: ["8", 0] } },
  "10": { class_type: "LoadImage", inputs: { image: "example.png" } },
  "11": { class_type: "LoadImageMask", inputs: { image: "example.png", channel: "alpha" } },
  "12": { class_type: "VAEEncodeForInpaint", inputs: { pixels: ["10", 0], mask: ["11", 0] } },
};

/** The plain text-to-image graph. */
const COMFY_TXT2IMG_WORKFLOW = {
  "3": { class_type: "KSampler", inputs: { seed: 1, steps: 20, cfg: 7, latent_image: ["5", 0] } },
  "5": { class_type: "EmptyLatentImage", inputs: { width: 512, height: 512, batch_size: 1 } },
  "6": { class_type: "CLIPTextEncode", inputs: { text: "" } },
  "9": { class_type: "SaveImage", inputs: { images: ["8", 0] } },
};

const FAST_RETRIES = "max_attempts: 3, retry_base_delay_ms: 50, retry_max_delay_ms: 200";

export function testCatalog(simulatorUrls: Record<SimulatorProfile, string>, deadUrl: string): string {
  const upstream = (name: string, url: string, extra = "") =>
    `[{ name: ${name}, protocol: openai, base_url: "${url}", model: sim, max_concurrency: 8, timeout_ms: 5000, ${FAST_RETRIES}${extra} }]`;
  return `
models:
  - id: test-sdxl
    description: Healthy simulated model with every parameter type.
    sizes: ["256x256", "512x512", "1024x1024"]
    max_n: 4
    max_prompt_length: 1000
    timeout_ms: 30000
    parameters:
      seed: { type: integer, minimum: 0, maximum: 4294967295 }
      negative_prompt: { type: string, max_length: 500 }
      style: { type: string, enum: [vivid, natural] }
      guidance_scale: { type: number, minimum: 0, maximum: 30 }
      steps: { type: integer, minimum: 1, maximum: 150 }
    capabilities: { edits: { max_input_images: 16, mask: true } }
    upstreams: ${upstream("sim-healthy", simulatorUrls.healthy)}
  - id: test-jpeg-upstream
    sizes: ["256x256"]
    upstreams: ${upstream("sim-jpeg", simulatorUrls.jpeg)}
  - id: test-webui
    description: Edits through A1111 img2img.
    sizes: ["256x256"]
    parameters:
      strength: { type: number, minimum: 0, maximum: 1 }
    capabilities: { edits: { mask: true } }
    upstreams: [{ name: sim-a1111, protocol: a1111, base_url: "${simulatorUrls.healthy}", max_concurrency: 4, timeout_ms: 5000, ${FAST_RETRIES} }]
  - id: test-webui-sluggish
    description: A1111 slow enough for its progress previews to become partial images.
    sizes: ["256x256"]
    upstreams: [{ name: sim-a1111-sluggish, protocol: a1111, base_url: "${simulatorUrls.sluggish}", max_concurrency: 4, timeout_ms: 5000, ${FAST_RETRIES} }]
  - id: test-comfy-sluggish
    description: ComfyUI slow enough for its event socket's previews to become partial images.
    sizes: ["256x256"]
    upstreams:
      - name: sim-comfy-sluggish
        protocol: comfyui
        base_url: "${simulatorUrls.sluggish}"
        max_concurrency: 4
        timeout_ms: 5000
        workflow:
          template: ${JSON.stringify(COMFY_TXT2IMG_WORKFLOW)}
          inputs: { prompt: "6.text", width: "5.width", height: "5.height", batch_size: "5.batch_size", seed: "3.seed" }
          output_node: "9"
  - id: test-cog
    description: Edits through Cog image/mask inputs.
    sizes: ["256x256"]
    capabilities: { edits: { mask: true } }
    upstreams: [{ name: sim-cog, protocol: cog, base_url: "${simulatorUrls.healthy}", max_concurrency: 4, timeout_ms: 5000, ${FAST_RETRIES} }]
  - id: test-comfy
    description: Edits through ComfyUI uploads and LoadImage/LoadImageMask nodes.
    sizes: ["256x256"]
    capabilities: { edits: { mask: true } }
    upstreams:
      - name: sim-comfy
        protocol: comfyui
        base_url: "${simulatorUrls.healthy}"
        max_concurrency: 4
        timeout_ms: 5000
        workflow:
          template: ${JSON.stringify(COMFY_INPAINT_WORKFLOW)}
          inputs: { prompt: "6.text", width: "5.width", height: "5.height", batch_size: "5.batch_size", seed: "3.seed", image: "10.image", mask: "11.image" }
          output_node: "9"
  - id: test-single
    sizes: ["512x512"]
    max_n: 1
    upstreams: ${upstream("sim-healthy", simulatorUrls.healthy)}
  - id: test-flaky
    sizes: ["256x256"]
    upstreams: ${upstream("sim-flaky", simulatorUrls.flaky)}
  - id: test-throttled
    sizes: ["256x256"]
    upstreams: ${upstream("sim-throttled", simulatorUrls.throttled)}
  - id: test-overloaded
    sizes: ["256x256"]
    upstreams: ${upstream("sim-overloaded", simulatorUrls.overloaded).replace("max_attempts: 3", "max_attempts: 2")}
  - id: test-hanging
    sizes: ["256x256"]
    timeout_ms: 3000
    upstreams: ${upstream("sim-hanging", simulatorUrls.hanging).replace("timeout_ms: 5000", "timeout_ms: 400").replace("max_attempts: 3", "max_attempts: 2")}
  - id: test-garbage
    sizes: ["256x256"]
    upstreams: ${upstream("sim-garbage", simulatorUrls.garbage)}
  - id: test-down
    sizes: ["256x256"]
    upstreams: ${upstream("sim-down", deadUrl)}
  - id: test-slow
    sizes: ["256x256"]
    upstreams: ${upstream("sim-slow", simulatorUrls.slow)}
  - id: test-sluggish
    description: Slow enough for a batch to be cancelled or to expire while it runs.
    sizes: ["256x256"]
    upstreams: ${upstream("sim-sluggish", simulatorUrls.sluggish).replace("max_concurrency: 8", "max_concurrency: 4")}
`;
}
