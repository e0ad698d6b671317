import {
  newId,
  parseImageGenerationRequest,
  ServiceError,
  type GenerateImagePayload,
  type GenerationRecords,
  type Idempotency,
  type Logger,
} from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { Router, json } from "express";
import type { Principal } from "../auth/authenticator.js";
import type { GenerationService } from "../generations/generation-service.js";
import type { GenerationJobs } from "../generations/jobs.js";
import { parsePrefer } from "../generations/prefer.js";
import { renderImages } from "../generations/render.js";
import type { RateLimiter } from "../rate-limit.js";

export interface ImagesGenerationsDeps {
  generations: GenerationService;
  jobs: GenerationJobs;
  records: GenerationRecords;
  idempotency: Idempotency;
  /** How long an async job may wait in the queue before it expires. */
  asyncJobTtlMs: number;
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
  if (body === null || typeof body !== "object" || Array.isArray(body) || !("webhook_url" in body)) return { webhookUrl: undefined, body };
  const { webhook_url: webhookUrl, ...rest } = body as Record<string, unknown>;
  if (webhookUrl === undefined || webhookUrl === null) return { webhookUrl: undefined, body: rest };
  if (!respondAsync) throw new ServiceError("invalid_payload", "webhook_url needs the header 'Prefer: respond-async'.", { param: "webhook_url" });
  if (typeof webhookUrl !== "string" || !URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
    throw new ServiceError("invalid_payload", "webhook_url must be an http(s) URL.", { param: "webhook_url" });
  }
  return { webhookUrl, body: rest };
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
    const prefer = parsePrefer(req.headers.prefer);
    const { webhookUrl, body } = takeWebhookUrl(req.body, prefer.respondAsync);
    // The workspace's view of the library: models outside it are model_not_found.
    const { request, card } = parseImageGenerationRequest(body, principal.catalog);
    const admission = await deps.rateLimiter.admit(principal, {
      requestId: res.locals.requestId as string,
      images: request.n,
      leaseMs: card.timeout_ms + SLOT_LEASE_MARGIN_MS,
    });
    res.set(admission.headers);
    if (!admission.admitted) throw admission.error;
    // "close" fires after the response and when the caller hangs up: either way the slot frees.
    res.on("close", admission.release);

    const idempotencyKey = req.header("idempotency-key");
    const retain = prefer.respondAsync || prefer.waitSeconds !== undefined || idempotencyKey !== undefined;
    const kind = prefer.respondAsync ? "async" : "sync";
    const jobId = kind === "async" ? newId("gen") : (res.locals.requestId as string);
    const clientGone = clientGoneSignal(res);

    if (idempotencyKey !== undefined) {
      const { replayOf } = await deps.idempotency.claim(principal.workspaceId, idempotencyKey, JSON.stringify(req.body), jobId);
      if (replayOf) {
        // The same request again: answer with the work the first one created.
        res.setHeader("idempotent-replayed", "true");
        const record = await deps.jobs.find(replayOf, principal.workspaceId);
        if (kind === "async") return void res.status(202).location(`/v1/images/generations/${replayOf}`).json(await deps.jobs.describe(record));
        const waitMs = Math.max(0, prefer.waitSeconds !== undefined ? prefer.waitSeconds * 1000 : card.timeout_ms);
        const result = await deps.generations.awaitRetained(replayOf, waitMs, clientGone);
        if (!result) return void res.status(202).location(`/v1/images/generations/${replayOf}`).json(await deps.jobs.describe(await deps.jobs.find(replayOf, principal.workspaceId)));
        return void res.json(await renderImages(result, record.response_format, deps.store, deps.urlTtlSeconds));
      }
    }

    const payload: GenerateImagePayload = {
      requestId: jobId,
      workspaceId: principal.workspaceId,
      kind,
      model: request.model,
      prompt: request.prompt,
      n: request.n,
      size: request.size,
      responseFormat: request.responseFormat,
      parameters: request.parameters,
      options: request.options,
      deadlineAt: Date.now() + (kind === "async" ? deps.asyncJobTtlMs : card.timeout_ms),
      ...(retain ? { retain: true } : {}),
    };
    const jobLog = log.child({ model: request.model, jobId });
    if (!retain) {
      const result = await deps.generations.runSync(payload, clientGone, jobLog);
      return void res.json(await renderImages(result, request.responseFormat, deps.store, deps.urlTtlSeconds));
    }

    await deps.records.create({ id: jobId, workspace: principal.workspaceId, model: request.model, responseFormat: request.responseFormat, webhookUrl });
    const waitMs = kind === "async" ? 0 : Math.min(card.timeout_ms, (prefer.waitSeconds ?? Infinity) * 1000);
    const result = await deps.generations.runRetained(payload, waitMs, clientGone, jobLog);
    if (result && kind === "sync") {
      return void res.json(await renderImages(result, request.responseFormat, deps.store, deps.urlTtlSeconds));
    }
    // Still running (or asked not to wait): the job to poll.
    if (prefer.respondAsync) res.setHeader("preference-applied", "respond-async");
    else if (prefer.waitSeconds !== undefined) res.setHeader("preference-applied", `wait=${prefer.waitSeconds}`);
    res.status(202).location(`/v1/images/generations/${jobId}`).json(await deps.jobs.describe(await deps.jobs.find(jobId, principal.workspaceId)));
  });

  router.get("/v1/images/generations/:id", async (req, res) => {
    const principal = res.locals.principal as Principal;
    res.json(await deps.jobs.describe(await deps.jobs.find(req.params.id, principal.workspaceId)));
  });

  router.post("/v1/images/generations/:id/cancel", async (req, res) => {
    const principal = res.locals.principal as Principal;
    res.json(await deps.jobs.cancel(req.params.id, principal.workspaceId));
  });
  return router;
}
