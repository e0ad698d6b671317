import { z } from "zod";

/**
 * OpenAI's standard image fields as every layer speaks of them: the values
 * each takes, and the resolved set the queue carries to the worker. Parsing
 * a request into them (and refusing what a model cannot do) is wire/'s job.
 */
export const OUTPUT_FORMATS = ["png", "jpeg", "webp"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const BACKGROUNDS = ["transparent", "opaque", "auto"] as const;
export const STYLES = ["vivid", "natural"] as const;
export const MODERATIONS = ["auto", "low"] as const;
export const INPUT_FIDELITIES = ["high", "low"] as const;
/** OpenAI's `quality` values; `auto` (the model's default) is always accepted. */
export const QUALITIES = ["auto", "low", "medium", "high", "xhigh", "max", "standard", "hd"] as const;
export type Quality = (typeof QUALITIES)[number];

/** The resolved standard fields, as the queue carries them to the worker. */
export const imageOptionsSchema = z.object({
  outputFormat: z.enum(OUTPUT_FORMATS),
  /** 0–100, jpeg and webp only; the encoder's quality (OpenAI's default is 100). */
  outputCompression: z.number().int().min(0).max(100).optional(),
  background: z.enum(BACKGROUNDS).optional(),
  quality: z.enum(QUALITIES).optional(),
  style: z.enum(STYLES).optional(),
  moderation: z.enum(MODERATIONS).optional(),
  inputFidelity: z.enum(INPUT_FIDELITIES).optional(),
  user: z.string().optional(),
  safetyIdentifier: z.string().optional(),
  /** Set when the caller streams (`stream: true`): how many partial images it wants (0–3). */
  partialImages: z.number().int().min(0).max(3).optional(),
});
export type ImageOptions = z.infer<typeof imageOptionsSchema>;
