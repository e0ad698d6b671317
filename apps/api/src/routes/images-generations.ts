import { parseImageGenerationRequest, ServiceError } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { Router, json, type Response } from "express";
import type { GenerationService, SubmitOutcome } from "../generations/generation-service.js";
import type { GenerationJobs } from "../generations/jobs.js";
import { parsePrefer } from "../generations/prefer.js";
import { renderImages } from "../generations/render.js";
import { principalOf } from "../middleware/locals.js";
import type { RateLimiter } from "../rate-limit.js";

export interface ImagesGenerationsDeps {
  generations: GenerationService;
  jobs: GenerationJobs;
  store: ImageStore;
  rateLimiter: RateLimiter;
  urlTtlSeconds: number;
  maxBodyBytes: number;
}

/** How long past the model's deadline a concurrency slot stays leased if this process dies holding it. */
const SLOT_LEASE_MARGIN_MS = 10_000;

/**
 * `webhook_url` is ours, not a model parameter: take it out of the body
 * before the model's card checks the rest. It only makes sense for a job
 * that is polled, i.e. with `Prefer: respond-async`.
 */
function takeWebhookUrl(body: unknown, respondAsync: boolean): { webhookUrl: string | undefined; body: unknown } {
  if (body === null || typeof body !== "object" || Array.isArray(body) || !Object.hasOwn(body, "webhook_url")) return { webhookUrl: undefined, body };
  const { webhook_url: webhookUrl, ...rest } = body as Record<string, unknown>;
  if (webhookUrl === undefined || webhookUrl === null) return { webhookUrl: undefined, body: rest };
  if (!respondAsync) throw new ServiceError("invalid_payload", "webhook_url needs the header 'Prefer: respond-async'.", { param: "webhook_url" });
  if (typeof webhookUrl !== "string" || !URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
    throw new ServiceError("invalid_payload", "webhook_url must be an http(s) URL.", { param: "webhook_url" });
  }
  return { webhookUrl, body: rest };
}

/** Aborts when the caller hangs up before we answered. */
function clientGoneSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** POST /v1/images/generations and the polled jobs it may create: parse → admit → submit → render. */
export function imagesGenerationsRouter(deps: ImagesGenerationsDeps): Router {
  const router = Router();

  async function render(res: Response, workspaceId: string, outcome: SubmitOutcome): Promise<void> {
    if (outcome.replayed) res.setHeader("idempotent-replayed", "true");
    if (outcome.status === "done") {
      return void res.json(await renderImages(outcome.result, outcome.responseFormat, deps.store, deps.urlTtlSeconds));
    }
    if (outcome.preferenceApplied) res.setHeader("preference-applied", outcome.preferenceApplied);
    const job = await deps.jobs.describe(await deps.jobs.find(outcome.jobId, workspaceId));
    res.status(202).location(`/v1/images/generations/${outcome.jobId}`).json(job);
  }

  router.post("/v1/images/generations", json({ limit: deps.maxBodyBytes, type: () => true }), async (req, res) => {
    const principal = principalOf(res);
    const prefer = parsePrefer(req.headers.prefer);
    const { webhookUrl, body } = takeWebhookUrl(req.body, prefer.respondAsync);
    // The workspace's view of the library: models outside it are model_not_found.
    const { request, card } = parseImageGenerationRequest(body, principal.catalog);

    const admission = await deps.rateLimiter.admit(principal, {
      requestId: res.locals.requestId,
      images: request.n,
      leaseMs: card.timeout_ms + SLOT_LEASE_MARGIN_MS,
    });
    res.set(admission.headers);
    if (!admission.admitted) throw admission.error;
    // "close" fires after the response and when the caller hangs up: either way the slot frees.
    res.on("close", admission.release);

    const outcome = await deps.generations.submit({
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
    });
    await render(res, principal.workspaceId, outcome);
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
