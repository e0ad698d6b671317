import { ServiceError, toModelObject } from "@imagegen/shared";
import { Router } from "express";
import { principalOf } from "../middleware/locals.js";

/**
 * GET /v1/models and GET /v1/models/{id}, in OpenAI's list shape: only the
 * models the caller's workspace may use; any other id is model_not_found,
 * with the same message as an unknown model.
 */
export function modelsRouter(): Router {
  const router = Router();
  router.get("/v1/models", (_req, res) => {
    const { catalog } = principalOf(res);
    res.json({ object: "list", data: catalog.models.map(toModelObject) });
  });
  // Model ids may contain slashes (e.g. "stabilityai/sdxl").
  router.get("/v1/models/*id", (req, res) => {
    const { catalog } = principalOf(res);
    const id = (req.params as { id: string[] }).id.join("/");
    const card = catalog.get(id);
    if (!card) throw new ServiceError("model_not_found", `The model '${id}' does not exist or you do not have access to it.`, { param: "model" });
    res.json(toModelObject(card));
  });
  return router;
}
