import { ServiceError } from "@imagegen/shared";
import { Router } from "express";
import { principalOf } from "../middleware/locals.js";
import type { ModelHealthReader } from "../model-health/reader.js";

/** GET /v1/model-health: whether each model of the caller's workspace has an upstream in rotation now. */
export function modelHealthRouter(reader: ModelHealthReader): Router {
  const router = Router();
  router.get("/v1/model-health", async (_req, res) => {
    const { catalog } = principalOf(res);
    let data;
    try {
      data = await reader.forCatalog(catalog);
    } catch (error) {
      throw new ServiceError("service_unavailable", "Model health is unavailable. Retry with backoff.", { cause: error });
    }
    res.json({ object: "list", data });
  });
  return router;
}
