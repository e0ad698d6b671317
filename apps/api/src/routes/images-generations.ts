import { parseImageGenerationRequest, parseOrInvalid, wantsStream } from "@imagegen/shared";
import { Router, json } from "express";
import { parsePrefer } from "../generations/prefer.js";
import { imagesOf, sendJsonWithImages } from "../generations/render.js";
import type { JobList } from "../generations/job-list.js";
import { principalOf } from "../middleware/locals.js";
import {
  checkStreamPreferences,
  createOutcomeRenderer,
  submitAndAnswer,
  takeWebhookUrl,
  type ImageRouteDeps,
} from "./image-request.js";
import { listQuerySchema } from "./list-query.js";

export interface ImagesGenerationsDeps extends ImageRouteDeps {
  jobList: JobList;
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
    if (webhookUrl !== undefined) await deps.checkWebhookTarget(webhookUrl);
    // The workspace's view of the library: models outside it are model_not_found.
    const { request, card } = parseImageGenerationRequest(body, principal.catalog);
    checkStreamPreferences(wantsStream(request.options), prefer);

    const idempotencyKey = req.header("idempotency-key");
    await submitAndAnswer(res, deps, "image_generation", {
      request,
      card,
      prefer,
      idempotencyKey,
      // Compared only under an Idempotency-Key: no second serialization of every body.
      idempotencyBody: idempotencyKey === undefined ? "" : JSON.stringify(req.body),
      webhookUrl,
    }, render);
  });

  router.get("/v1/images/generations", async (req, res) => {
    const principal = principalOf(res);
    // The error names the query parameter at fault (limit or after).
    const query = parseOrInvalid(listQuerySchema, req.query, { fallbackMessage: "Invalid query." });
    res.json(await deps.jobList.list(principal.workspaceId, query));
  });

  router.get("/v1/images/generations/:id", async (req, res) => {
    const principal = principalOf(res);
    const job = await deps.jobs.describe(await deps.jobs.find(req.params.id, principal.workspaceId));
    // A finished b64_json job carries its images: written as they are, like the synchronous reply.
    sendJsonWithImages(res, await deps.jobList.withRequest(job, principal.workspaceId), imagesOf(job));
  });

  router.post("/v1/images/generations/:id/cancel", async (req, res) => {
    const principal = principalOf(res);
    res.json(await deps.jobs.cancel(req.params.id, principal.workspaceId));
  });
  return router;
}
