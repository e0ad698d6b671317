import type { UpstreamOptions } from "../upstream.js";

/**
 * OpenAI's standard fields under their own names, only those the caller set:
 * compatible servers differ in what they know, and a field never sent cannot
 * be refused. output_format is ours to honour (the worker transcodes), so the
 * upstream is always asked for its default, PNG.
 */
export function openAiStandardFields(options: UpstreamOptions | undefined): Record<string, string> {
  if (options === undefined) return {};
  const fields: Record<string, string | undefined> = {
    quality: options.quality,
    style: options.style,
    moderation: options.moderation,
    background: options.background,
    input_fidelity: options.inputFidelity,
    user: options.user,
    safety_identifier: options.safetyIdentifier,
  };
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
