import { faultsPatchSchema, type FaultOptions, type FaultsPatch, type SimulatorOptions } from "./config.js";
import { createFaultInjector, createSeededRandom, type Fault } from "./faults.js";
import { contentTypeOf, encodeAs, renderEdit } from "./edit-image.js";
import type { EncodedImage } from "./image-cache.js";
import { createImageSource, imageSeedFor } from "./images.js";
import type { GenerationRequest } from "./protocol.js";
import { emptyStats, type ResponseKind, type SimulatorStats } from "./stats.js";

// Latency jitter gets its own PRNG stream so enabling jitter leaves the fault sequence unchanged.
const JITTER_SEED_SALT = 0x5bd1e995;

/**
 * The simulated GPU every protocol shares: one set of slots and counters,
 * one fault sequence, one image source. Protocol modules decide only how
 * requests and answers look.
 */
export interface SimCore {
  readonly options: SimulatorOptions;
  faults(): FaultOptions;
  setFaults(patch: FaultsPatch): void;
  /** The live counters (replaced by resetStats). */
  stats(): SimulatorStats;
  resetStats(): void;
  count(kind: ResponseKind): void;
  /** Whether every GPU slot is taken (never, with maxConcurrency 0). */
  full(): boolean;
  /** Takes a slot; the returned release is idempotent. */
  admit(): () => void;
  decideFault(prompt: string): Fault | null;
  /** Simulated GPU time for a request of n images. */
  delayMs(n: number): number;
  /** The request's images (counted as delivered). */
  render(request: GenerationRequest): EncodedImage[];
  /**
   * The request's images as the server answers them: edits derived from
   * their inputs, everything in the configured format. Plain PNG
   * generations take render's synchronous, cached path.
   */
  produce(request: GenerationRequest): EncodedImage[] | Promise<EncodedImage[]>;
  /** The first image the request will produce, as PNG, not counted as delivered: what previews are made from. */
  firstImage(request: GenerationRequest): Promise<Buffer>;
  /** Requests between admission and answer, for A1111's progress endpoint (latest last). */
  readonly running: Map<object, { request: GenerationRequest; startedAtMs: number; delayMs: number }>;
  /** Sequence number of the next garbage answer, so protocols alternate their lies. */
  nextGarbage(): number;
  revisedPrompt(request: GenerationRequest): string | null;
}

export function createSimCore(options: SimulatorOptions): SimCore {
  let faults: FaultOptions = options.faults;
  let stats = emptyStats();
  let garbageCount = 0;
  let jitterRandom = createSeededRandom(options.seed ^ JITTER_SEED_SALT);
  const injector = createFaultInjector(options.seed);
  const imageSource = createImageSource({ noise: options.noise, compressionLevel: options.compressionLevel, cacheMaxBytes: options.imageCacheMaxBytes });

  function render(request: GenerationRequest): EncodedImage[] {
    const rendered: EncodedImage[] = [];
    for (let index = 0; index < request.n; index++) {
      rendered.push(imageSource.get(imageSeedFor(request.prompt, request.seed, index, options.seed), request.width, request.height));
    }
    stats.images += request.n;
    return rendered;
  }

  async function produceSlowly(request: GenerationRequest): Promise<EncodedImage[]> {
    const first = request.edit === undefined ? undefined : await renderEdit(request.edit, request.width, request.height);
    const images: EncodedImage[] = [];
    for (let index = 0; index < request.n; index++) {
      const source = first ?? imageSource.get(imageSeedFor(request.prompt, request.seed, index, options.seed), request.width, request.height).bytes;
      const bytes = await encodeAs(source, options.imageFormat);
      images.push({ bytes, contentType: contentTypeOf(options.imageFormat), b64: bytes.toString("base64") });
    }
    stats.images += request.n;
    return images;
  }

  return {
    options,
    faults: () => faults,
    setFaults(patch) {
      const valid = faultsPatchSchema.parse(patch);
      // An explicit `undefined` means "leave as is", not "unset".
      const defined = Object.fromEntries(Object.entries(valid).filter(([, value]) => value !== undefined));
      faults = { ...faults, ...defined };
      if (valid.failFirstAttemptsPerPrompt !== undefined) injector.clearAttempts();
    },
    stats: () => stats,
    resetStats() {
      // inFlight is live state, not a counter: requests still running keep their slots.
      stats = emptyStats(stats.inFlight);
      garbageCount = 0;
      jitterRandom = createSeededRandom(options.seed ^ JITTER_SEED_SALT);
      injector.reset();
    },
    count(kind) {
      stats.responses[kind]++;
    },
    full: () => options.maxConcurrency > 0 && stats.inFlight >= options.maxConcurrency,
    admit() {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // Decrement whatever stats object is current: resetStats carries inFlight over.
        stats.inFlight--;
      };
    },
    decideFault: (prompt) => injector.decide(faults, prompt),
    delayMs: (n) => options.latencyMs + Math.floor(jitterRandom() * (options.latencyJitterMs + 1)) + options.latencyPerImageMs * n,
    render,
    running: new Map(),
    async firstImage(request) {
      if (request.edit !== undefined) return renderEdit(request.edit, request.width, request.height);
      return imageSource.get(imageSeedFor(request.prompt, request.seed, 0, options.seed), request.width, request.height).bytes;
    },
    produce(request) {
      if (request.edit === undefined && options.imageFormat === "png") return render(request);
      return produceSlowly(request);
    },
    nextGarbage: () => garbageCount++,
    revisedPrompt: (request) => (options.revisedPrompt ? `${request.prompt} (as rendered by ${request.model})` : null),
  };
}
