import type { ModelCatalog } from "@imagegen/shared";
import type { UpstreamUsage } from "../upstreams/usage.js";

export interface ModelUpstreamHealth {
  model: string;
  /** Upstreams of the model in rotation in this worker. */
  healthy: number;
}

/**
 * Healthy upstreams per model, from the per-upstream view the router keeps.
 * Upstreams are shared between models, so "no healthy upstream for a model"
 * cannot be read off imagegen_upstream_healthy without this mapping.
 */
export function modelUpstreamHealth(catalog: ModelCatalog, usage: readonly UpstreamUsage[]): ModelUpstreamHealth[] {
  const healthy = new Set(usage.filter((upstream) => upstream.healthy).map((upstream) => upstream.upstream));
  return catalog.models.map((card) => ({ model: card.id, healthy: card.upstreams.filter((spec) => healthy.has(spec.name)).length }));
}
