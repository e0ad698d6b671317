import { createModelCatalog, type EntitledModels, type ModelCatalog } from "@imagegen/shared";

/**
 * The part of the model library a workspace may use. Everything that looks
 * models up (validation, /v1/models) is handed this view, so a model outside
 * the workspace's entitlement is indistinguishable from an unknown one.
 */
export function entitledCatalog(catalog: ModelCatalog, models: EntitledModels): ModelCatalog {
  if (models === "*") return catalog;
  const allowed = new Set(models);
  return createModelCatalog(catalog.models.filter((card) => allowed.has(card.id)));
}

/** Views are rebuilt only when a workspace's entitlement changes, not per request. */
export function createCatalogViews(catalog: ModelCatalog): (models: EntitledModels) => ModelCatalog {
  const views = new Map<string, ModelCatalog>();
  return (models) => {
    const signature = models === "*" ? "*" : JSON.stringify([...models].sort());
    let view = views.get(signature);
    if (!view) {
      // Bounded by the number of distinct entitlements operators configure.
      if (views.size > 1000) views.clear();
      view = entitledCatalog(catalog, models);
      views.set(signature, view);
    }
    return view;
  };
}
