import { parseImageEditRequest, wantsStream } from "@imagegen/shared";
import { Router } from "express";
import { receiveEditUpload } from "../edits/receive-upload.js";
import { storeEditInputs } from "../edits/store-inputs.js";
import { validateEditInputs } from "../edits/validate-inputs.js";
import { parsePrefer } from "../generations/prefer.js";
import { principalOf } from "../middleware/locals.js";
import { onResponseClosed } from "../middleware/response-closed.js";
import {
  checkStreamPreferences,
  createOutcomeRenderer,
  submitAndAnswer,
  takeWebhookUrl,
  type ImageRouteDeps,
} from "./image-request.js";

export interface ImagesEditsDeps extends ImageRouteDeps {
  /** Largest single input image or mask (EDIT_MAX_IMAGE_BYTES). */
  maxImageBytes: number;
  /** Where uploads are spooled (UPLOAD_TMP_DIR). */
  uploadTmpDir: string;
}

/**
 * POST /v1/images/edits (OpenAI's CreateImageEditRequest, multipart):
 * spool → parse fields → decode inputs → admit → store inputs → submit →
 * render. It runs through the same generation service as generations, so
 * `Prefer`, Idempotency-Key and webhooks behave the same; only what is
 * checked and where the inputs wait differ.
 */
export function imagesEditsRouter(deps: ImagesEditsDeps): Router {
  const router = Router();
  const render = createOutcomeRenderer(deps);

  router.post("/v1/images/edits", async (req, res) => {
    const principal = principalOf(res);
    const prefer = parsePrefer(req.headers.prefer);
    const upload = await receiveEditUpload(req, { maxImageBytes: deps.maxImageBytes, tmpDir: deps.uploadTmpDir });
    // The spooled copies go once the request is answered or abandoned.
    onResponseClosed(res, () => void upload.discard());

    const { webhookUrl } = takeWebhookUrl(upload.fields, prefer.respondAsync);
    if (webhookUrl !== undefined) await deps.checkWebhookTarget(webhookUrl);
    const { webhook_url: _webhookUrl, ...fields } = upload.fields;
    const parsed = parseImageEditRequest(fields, { imageCount: upload.images.length, hasMask: upload.mask !== undefined }, principal.catalog);
    checkStreamPreferences(wantsStream(parsed.request.options), prefer);
    const inputs = await validateEditInputs(upload.images, upload.mask);
    const { card } = parsed;
    // Size left to the model: the input's own size when the model offers it.
    const inputSize = `${inputs.images[0]!.width}x${inputs.images[0]!.height}`;
    const request = parsed.sizeIsAuto && card.sizes.includes(inputSize) ? { ...parsed.request, size: inputSize } : parsed.request;

    await submitAndAnswer(res, deps, "image_edit", {
      request,
      card,
      prefer,
      idempotencyKey: req.header("idempotency-key"),
      idempotencyBody: `edit:${upload.digest}`,
      webhookUrl,
      // Inputs reach storage only for admitted new work, under the job's own id.
      storeInputs: (jobId) => storeEditInputs(deps.store, inputs, { workspaceId: principal.workspaceId, jobId, createdAt: new Date() }),
    }, render);
  });
  return router;
}
