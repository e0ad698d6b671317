import { parseImageGenerationRequest, wantsStream } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { Router, json } from "express";
import type { GenerationService } from "../generations/generation-service.js";
import type { GenerationJobs } from "../generations/jobs.js";
import { parsePrefer } from "../generations/prefer.js";
import { principalOf } from "../middleware/locals.js";
import type { RateLimiter } from "../rate-limit.js";
import type { PartialRelay } from "../streaming/partial-relay.js";
import { checkStreamPreferences, clientGoneSignal, createOutcomeRenderer, SLOT_LEASE_MARGIN_MS, submitAndAnswer, takeWebhookUrl } from "./image-request.js";

export interface ImagesGenerationsDeps {
  generations: GenerationService;
  /** Partial images of streaming requests, relayed from the workers. */
  relay: PartialRelay;
  jobs: GenerationJobs;
  store: ImageStore;
  rateLimiter: RateLimiter;
  urlTtlSeconds: number;
  maxBodyBytes: number;
}

/** POST /v1/images/generations and the polled jobs it may create: parse → admit → submit → render. */
export function imagesGenerationsRouter(deps: ImagesGenerationsDeps): Router {
  const router = Router();
  const render = createOutcomeRenderer(deps);

  router.post("/v1/images/generations", json({ limit: deps.maxBodyBytes, type: () => true }), async (req, res) => {
    const principal = principalOf(res);
    const prefer = parsePrefer(req.headers.prefer);
    const { webhookUrl, body } = takeWebhookUrl(req.body, prefer.respondAsync);
    // The workspace's view of the library: models outside it are model_not_found.
    const { request, card } = parseImageGenerationRequest(body, principal.catalog);
    checkStreamPreferences(wantsStream(request.options), prefer);

    const admission = await deps.rateLimiter.admit(principal, {
      requestId: res.locals.requestId,
      images: request.n,
      leaseMs: card.timeout_ms + SLOT_LEASE_MARGIN_MS,
    });
    res.set(admission.headers);
    if (!admission.admitted) throw admission.error;
    // "close" fires after the response and when the caller hangs up: either way the slot frees.
    res.on("close", admission.release);

    await submitAndAnswer(res, deps, "image_generation", {
      workspaceId: principal.workspaceId,
      requestId: res.locals.requestId,
      request,
      card,
      prefer,
      idempotencyKey: req.header("idempotency-key"),
      idempotencyBody: JSON.stringify(req.body),
      webhookUrl,
      clientGone: clientGoneSignal(res),
      log: res.locals.log,
    }, render);
  });

  router.get("/v1/images/generations/:id", async (req, res) => {
    const principal = principalOf(res);
    res.json(await deps.jobs.describe(await deps.jobs.find(req.params.id, principal.workspaceId)));
  });

  router.post("/v1/images/generations/:id/cancel", async (req, res) => {
    const principal = principalOf(res);
    res.json(await deps.jobs.cancel(req.params.id, principal.workspaceId));
  });
  return router;
}
