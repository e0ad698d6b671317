import { z } from "zod";
import { IMAGE_FORMATS } from "./edit-image.js";

// Shared field schemas, so the options object, the fault patch endpoint and
// the environment all enforce the same ranges.
const rate = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().min(0);
const noiseAmplitude = z.number().int().min(0).max(255);
const zlibLevel = z.number().int().min(0).max(9);
const httpErrorStatus = z.number().int().min(400).max(599);
const seedValue = z.number().int().safe();

const faultFields = {
  /** Share of requests answered 500 with an OpenAI-style error body. */
  errorRate: rate,
  /** Share of requests answered 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitRate: rate,
  /** Seconds sent in Retry-After, for injected 429s and for requests beyond maxConcurrency. */
  retryAfterSeconds: nonNegativeInt,
  /** Share of requests accepted and never answered, to exercise client deadlines. */
  hangRate: rate,
  /** Share of requests whose socket is destroyed without a response. */
  resetRate: rate,
  /** Share of requests answered 200 with a body that is not the protocol. */
  garbageRate: rate,
  /** The first N requests carrying a given prompt fail with failStatus; later ones succeed. Deterministic, for retry tests. */
  failFirstAttemptsPerPrompt: nonNegativeInt,
  /** Status used by failFirstAttemptsPerPrompt. */
  failStatus: httpErrorStatus,
};

export const faultsSchema = z.strictObject({
  errorRate: faultFields.errorRate.default(0),
  rateLimitRate: faultFields.rateLimitRate.default(0),
  retryAfterSeconds: faultFields.retryAfterSeconds.default(1),
  hangRate: faultFields.hangRate.default(0),
  resetRate: faultFields.resetRate.default(0),
  garbageRate: faultFields.garbageRate.default(0),
  failFirstAttemptsPerPrompt: faultFields.failFirstAttemptsPerPrompt.default(0),
  failStatus: faultFields.failStatus.default(503),
});

/** Body of `POST /_sim/faults` and argument of `setFaults`: any subset; unknown keys are rejected so typos fail loudly. */
export const faultsPatchSchema = z.strictObject(faultFields).partial();

export const simulatorOptionsSchema = z.strictObject({
  /** When set, generation requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey: z.string().min(1).optional(),
  /** Base latency per generation request: the simulated GPU time. */
  latencyMs: nonNegativeInt.default(0),
  /** Uniform extra latency in 0..latencyJitterMs, drawn from the seeded PRNG. */
  latencyJitterMs: nonNegativeInt.default(0),
  /** Extra latency per image in n, as a batch costs more GPU time. */
  latencyPerImageMs: nonNegativeInt.default(0),
  /** GPU slots; a generation request beyond them gets 429. 0 = unlimited. */
  maxConcurrency: nonNegativeInt.default(0),
  /**
   * Amplitude of per-pixel noise; noise is what makes PNGs big. At compressionLevel 1:
   * 1024x1024 → noise 2 ≈ 1.06 MB, 16 ≈ 2.1 MB; 512x512 → 16 ≈ 0.55 MB, max ≈ 0.76 MB
   * (raw RGB is 786 KB, so 1 MB is out of reach). Full table in README.md.
   */
  noise: noiseAmplitude.default(16),
  /** zlib level for IDAT; 1 keeps cache misses cheap. */
  compressionLevel: zlibLevel.default(1),
  /** Include revised_prompt in each data item, as hosted providers do. */
  revisedPrompt: z.boolean().default(true),
  /** Upper bound of the encoded-PNG cache; benchmarks repeat prompts and encoding 1024x1024 costs tens of ms. */
  imageCacheMaxBytes: nonNegativeInt.default(256 * 1024 * 1024),
  faults: faultsSchema.prefault({}),
  /** Seeds fault decisions, latency jitter and image noise, so runs are reproducible. */
  seed: seedValue.default(0),
  /** Format of the images the simulated server answers with; real servers differ (some answer JPEG or WebP). */
  imageFormat: z.enum(IMAGE_FORMATS).default("png"),
});

export type SimulatorOptions = z.output<typeof simulatorOptionsSchema>;
/** What callers pass: every field optional, faults may be partial. */
export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;
export type FaultOptions = z.output<typeof faultsSchema>;
export type FaultsPatch = z.output<typeof faultsPatchSchema>;

// Environment values are strings; coerce, then apply the same ranges as the options.
const envNumber = (schema: z.ZodNumber) => z.coerce.number().pipe(schema).optional();

const simulatorEnvSchema = z.object({
  SIM_PORT: envNumber(z.number().int().min(0).max(65535)),
  SIM_HOST: z.string().min(1).optional(),
  SIM_API_KEY: z.string().min(1).optional(),
  SIM_LATENCY_MS: envNumber(nonNegativeInt),
  SIM_LATENCY_JITTER_MS: envNumber(nonNegativeInt),
  SIM_LATENCY_PER_IMAGE_MS: envNumber(nonNegativeInt),
  SIM_MAX_CONCURRENCY: envNumber(nonNegativeInt),
  SIM_NOISE: envNumber(noiseAmplitude),
  SIM_COMPRESSION_LEVEL: envNumber(zlibLevel),
  SIM_REVISED_PROMPT: z.stringbool().optional(),
  SIM_ERROR_RATE: envNumber(rate),
  SIM_RATE_LIMIT_RATE: envNumber(rate),
  SIM_RETRY_AFTER_SECONDS: envNumber(nonNegativeInt),
  SIM_HANG_RATE: envNumber(rate),
  SIM_RESET_RATE: envNumber(rate),
  SIM_GARBAGE_RATE: envNumber(rate),
  SIM_FAIL_FIRST_ATTEMPTS: envNumber(nonNegativeInt),
  SIM_FAIL_STATUS: envNumber(httpErrorStatus),
  SIM_SEED: envNumber(seedValue),
  SIM_IMAGE_FORMAT: z.enum(IMAGE_FORMATS).optional(),
});

export class SimulatorEnvError extends Error {
  override name = "SimulatorEnvError";
}

export interface SimulatorEnvConfig {
  port: number;
  host: string;
  options: SimulatorOptions;
}

/** Parses every SIM_* variable at once; throws SimulatorEnvError naming each bad variable. */
export function simulatorConfigFromEnv(env: Record<string, string | undefined>): SimulatorEnvConfig {
  // An empty variable means "unset" (shell scripts often export VAR=), not 0.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = simulatorEnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new SimulatorEnvError(`Invalid simulator environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const options = simulatorOptionsSchema.parse({
    apiKey: e.SIM_API_KEY,
    latencyMs: e.SIM_LATENCY_MS,
    latencyJitterMs: e.SIM_LATENCY_JITTER_MS,
    latencyPerImageMs: e.SIM_LATENCY_PER_IMAGE_MS,
    maxConcurrency: e.SIM_MAX_CONCURRENCY,
    noise: e.SIM_NOISE,
    compressionLevel: e.SIM_COMPRESSION_LEVEL,
    revisedPrompt: e.SIM_REVISED_PROMPT,
    seed: e.SIM_SEED,
    imageFormat: e.SIM_IMAGE_FORMAT,
    faults: {
      errorRate: e.SIM_ERROR_RATE,
      rateLimitRate: e.SIM_RATE_LIMIT_RATE,
      retryAfterSeconds: e.SIM_RETRY_AFTER_SECONDS,
      hangRate: e.SIM_HANG_RATE,
      resetRate: e.SIM_RESET_RATE,
      garbageRate: e.SIM_GARBAGE_RATE,
      failFirstAttemptsPerPrompt: e.SIM_FAIL_FIRST_ATTEMPTS,
      failStatus: e.SIM_FAIL_STATUS,
    },
  });
  return { port: e.SIM_PORT ?? 9100, host: e.SIM_HOST ?? "127.0.0.1", options };
}

/** The simulator options encoded in SIM_* variables (port and host excluded). */
export function simulatorOptionsFromEnv(env: Record<string, string | undefined>): SimulatorOptions {
  return simulatorConfigFromEnv(env).options;
}
