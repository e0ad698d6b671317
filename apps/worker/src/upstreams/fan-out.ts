import type { ModelCard } from "@imagegen/shared";
import type { UpstreamImageRequest } from "./upstream.js";

/** One call of a fanned-out request: images [offset, offset + count). */
export interface RequestPart {
  offset: number;
  count: number;
}

/**
 * Images one call may ask for on this model: the smallest cap among its
 * upstreams, so any part can go to (and fail over to) any upstream.
 */
export function imagesPerCall(card: ModelCard, n: number): number {
  return Math.min(n, ...card.upstreams.map((upstream) => upstream.max_images_per_request ?? n));
}

export function planParts(n: number, perCall: number): RequestPart[] {
  const parts: RequestPart[] = [];
  for (let offset = 0; offset < n; offset += perCall) parts.push({ offset, count: Math.min(perCall, n - offset) });
  return parts;
}

/**
 * The request for one part. A caller's seed moves by the part's offset,
 * as a batch's seeds do (seed, seed+1, ...), so the parts differ and a
 * split request draws what one batch would have.
 */
export function partRequest<T extends Omit<UpstreamImageRequest, "model">>(request: T, part: RequestPart): T {
  const seed = request.parameters.seed;
  const parameters =
    typeof seed === "number" && part.offset > 0 ? { ...request.parameters, seed: (seed + part.offset) % 2 ** 32 } : request.parameters;
  return { ...request, n: part.count, parameters };
}
