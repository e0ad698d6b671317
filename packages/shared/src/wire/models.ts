import type { ModelCard } from "../catalog/schema.js";

/**
 * `GET /v1/models` entries: OpenAI's model object, plus an `image` block so a
 * caller can discover sizes, the cap on `n` and model-specific parameters.
 */
export function toModelObject(card: ModelCard) {
  return {
    id: card.id,
    object: "model" as const,
    created: card.created,
    owned_by: card.owned_by,
    ...(card.description ? { description: card.description } : {}),
    image: {
      sizes: card.sizes,
      default_size: card.default_size,
      max_n: card.max_n,
      max_prompt_length: card.max_prompt_length,
      response_formats: ["url", "b64_json"],
      parameters: card.parameters,
      capabilities: {
        generations: card.capabilities.generations,
        edits: card.capabilities.edits === undefined ? (false as const) : { max_input_images: card.capabilities.edits.maxInputImages, mask: card.capabilities.edits.mask },
        transparent_background: card.capabilities.transparentBackground,
        qualities: ["auto", ...card.capabilities.qualities],
        output_formats: ["png", "jpeg", "webp"],
      },
    },
  };
}
export type ModelObject = ReturnType<typeof toModelObject>;
