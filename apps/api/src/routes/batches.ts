import {
  ACTIVE_BATCH_STATUSES,
  batchStepJobOptions,
  COMPLETION_WINDOWS,
  createBatchBodySchema,
  isPublicId,
  newId,
  parseOrInvalid,
  ServiceError,
  toBatchObject,
  type BatchRecords,
  type FileRecords,
  type Idempotency,
} from "@imagegen/shared";
import type { Queue } from "bullmq";
import { json, Router } from "express";
import type { WebhookTargetCheck } from "../webhooks/webhook-target.js";
import { listPage, listQuerySchema } from "./list-query.js";
import { principalOf } from "../middleware/locals.js";

export interface BatchesDeps {
  batches: BatchRecords;
  files: FileRecords;
  batchesQueue: Queue;
  idempotency: Idempotency;
  maxBodyBytes: number;
  /** Shortens every completion window (tests of expiry); unset in production. */
  completionWindowOverrideSeconds: number | undefined;
  checkWebhookTarget: WebhookTargetCheck;
}

/** OpenAI's Batch API for `/v1/images/generations`. */
export function batchesRouter(deps: BatchesDeps): Router {
  const router = Router();

  async function find(id: string, workspaceId: string) {
    const record = isPublicId(id, ["batch"]) ? await deps.batches.get(id) : undefined;
    if (!record || record.workspace !== workspaceId) throw new ServiceError("not_found", `No batch found with id '${id}'.`, { param: "id" });
    return record;
  }

  router.post("/v1/batches", json({ limit: deps.maxBodyBytes, type: () => true }), async (req, res) => {
    const principal = principalOf(res);
    const body = parseOrInvalid(createBatchBodySchema, req.body ?? {}, { fallbackMessage: "Invalid batch." });
    if (body.webhook_url !== undefined) await deps.checkWebhookTarget(body.webhook_url);
    const input = await deps.files.get(body.input_file_id, principal.workspaceId);
    if (!input || input.purpose !== "batch") {
      throw new ServiceError("invalid_payload", `No batch input file with id '${body.input_file_id}'.`, { param: "input_file_id" });
    }
    const id = newId("batch");
    const idempotencyKey = req.header("idempotency-key");
    if (idempotencyKey !== undefined) {
      const { replayOf } = await deps.idempotency.claim(principal.workspaceId, idempotencyKey, JSON.stringify(req.body), id);
      if (replayOf) {
        res.setHeader("idempotent-replayed", "true");
        return void res.json(toBatchObject(await find(replayOf, principal.workspaceId)));
      }
    }
    const windowSeconds = deps.completionWindowOverrideSeconds ?? COMPLETION_WINDOWS[body.completion_window];
    const expiresAt = Math.floor(Date.now() / 1000) + windowSeconds;
    await deps.batches.create({
      id,
      workspace: principal.workspaceId,
      inputFileId: input.id,
      endpoint: body.endpoint,
      completionWindow: body.completion_window,
      expiresAt,
      metadata: body.metadata,
      webhookUrl: body.webhook_url,
    });
    // Read before the steps are queued: the answer is the batch as created
    // (`validating`, as OpenAI answers), not whatever a quick worker made of it meanwhile.
    const created = await find(id, principal.workspaceId);
    const step = { batchId: id, workspaceId: principal.workspaceId };
    await deps.batchesQueue.add("ingest", step, batchStepJobOptions("ingest", id));
    await deps.batchesQueue.add("expire", step, batchStepJobOptions("expire", id, windowSeconds * 1000));
    res.json(toBatchObject(created));
  });

  router.get("/v1/batches", async (req, res) => {
    const principal = principalOf(res);
    const query = parseOrInvalid(listQuerySchema, req.query, { fallbackMessage: "Invalid query.", param: "limit" });
    const { records, hasMore } = await deps.batches.list(principal.workspaceId, query);
    res.json(listPage(records.map(toBatchObject), hasMore));
  });

  router.get("/v1/batches/:id", async (req, res) => {
    const principal = principalOf(res);
    res.json(toBatchObject(await find(req.params.id, principal.workspaceId)));
  });

  router.post("/v1/batches/:id/cancel", async (req, res) => {
    const principal = principalOf(res);
    const batch = await find(req.params.id, principal.workspaceId);
    if (!ACTIVE_BATCH_STATUSES.includes(batch.status)) {
      throw new ServiceError("invalid_payload", `Cannot cancel a batch with status '${batch.status}'.`, { param: "id" });
    }
    const outcome = await deps.batches.transition(batch.id, "cancelling", ["validating", "in_progress"], {
      cancelling_at: Math.floor(Date.now() / 1000),
    });
    if (outcome?.applied) {
      await deps.batchesQueue.add("cancel", { batchId: batch.id, workspaceId: principal.workspaceId }, batchStepJobOptions("cancel", batch.id));
    }
    res.json(toBatchObject(await find(batch.id, principal.workspaceId)));
  });

  return router;
}
