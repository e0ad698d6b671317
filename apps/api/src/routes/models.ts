import { ServiceError, toModelObject, type ModelCatalog } from "@imagegen/shared";
import { Router } from "express";

/** GET /v1/models and GET /v1/models/{id}, in OpenAI's list shape. */
export function modelsRouter(catalog: ModelCatalog): Router {
  const router = Router();
  const list = { object: "list", data: catalog.models.map(toModelObject) };
  router.get("/v1/models", (_req, res) => {
    res.json(list);
  });
  // Model ids may contain slashes (e.g. "stabilityai/sdxl").
  router.get("/v1/models/*id", (req, res) => {
    const id = (req.params as { id: string[] }).id.join("/");
    const card = catalog.get(id);
    if (!card) throw new ServiceError("model_not_found", `The model '${id}' does not exist or you do not have access to it.`, { param: "model" });
    res.json(toModelObject(card));
  });
  return router;
}
