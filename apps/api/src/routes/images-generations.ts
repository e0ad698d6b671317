import { parseImageGenerationRequest, type GenerateImagePayload, type Logger, type ModelCatalog } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { Router, json } from "express";
import type { Principal } from "../auth/api-keys.js";
import type { GenerationService } from "../generations/generation-service.js";
import { renderImages } from "../generations/render.js";
import type { RateLimiter } from "../rate-limit.js";

export interface ImagesGenerationsDeps {
  catalog: ModelCatalog;
  generations: GenerationService;
  store: ImageStore;
  rateLimiter: RateLimiter;
  urlTtlSeconds: number;
  maxBodyBytes: number;
}

/** Aborts when the caller hangs up before we answered. */
function clientGoneSignal(res: import("express").Response): AbortSignal {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** POST /v1/images/generations: validate, enqueue, wait, answer in OpenAI's shape. */
export function imagesGenerationsRouter(deps: ImagesGenerationsDeps): Router {
  const router = Router();
  router.post("/v1/images/generations", json({ limit: deps.maxBodyBytes, type: () => true }), async (req, res) => {
    const principal = res.locals.principal as Principal;
    const log = res.locals.log as Logger;
    const { request, card } = parseImageGenerationRequest(req.body, deps.catalog);
    await deps.rateLimiter.consume(principal, res);

    const payload: GenerateImagePayload = {
      requestId: res.locals.requestId as string,
      workspaceId: principal.workspaceId,
      kind: "sync",
      model: request.model,
      prompt: request.prompt,
      n: request.n,
      size: request.size,
      responseFormat: request.responseFormat,
      parameters: request.parameters,
      deadlineAt: Date.now() + card.timeout_ms,
    };
    const result = await deps.generations.runSync(payload, clientGoneSignal(res), log.child({ model: request.model }));
    res.json(await renderImages(result, request.responseFormat, deps.store, deps.urlTtlSeconds));
  });
  return router;
}
