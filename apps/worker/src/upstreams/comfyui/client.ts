import { randomUUID } from "node:crypto";
import type { ComfyWorkflowSpec } from "@imagegen/shared";
import { createUpstreamHttp, httpStatusError, isSuccess, messageFrom, parseReply, type UpstreamHttp } from "../http.js";
import { imageContentType, UpstreamAttemptError, type EditInputs, type GeneratedImage, type ImageUpstream, type InputImage, type UpstreamPartials } from "../upstream.js";
import { comfyErrorMessage, comfyErrorSchema, comfyHistorySchema, comfyQueuedSchema, comfyUploadSchema, executionErrorOf, type ComfyHistoryEntry, type ComfyImageRef } from "./response.js";
import { createComfyPreviewFeed, type ComfyPreviewFeed } from "./previews.js";
import { createWorkflowFiller, type UploadedInputs } from "./workflow.js";
import { sleepFor } from "../retry.js";

export interface ComfyUpstreamOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  connections: number;
  workflow: ComfyWorkflowSpec;
  /** First and largest wait between `/history` polls. */
  pollMinMs?: number;
  pollMaxMs?: number;
}

const MAX_SEED = 2 ** 32 - 1;


/** The images of a finished prompt, in node-id order (or only `outputNode`'s). */
function imageRefs(entry: ComfyHistoryEntry, outputNode: string | undefined): ComfyImageRef[] {
  const nodes = Object.keys(entry.outputs).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return nodes
    .filter((node) => outputNode === undefined || node === outputNode)
    .flatMap((node) => (entry.outputs[node]?.images ?? []).filter((image) => image.type === "output"));
}

async function fetchImage(http: UpstreamHttp, ref: ComfyImageRef, signal: AbortSignal): Promise<GeneratedImage> {
  const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
  const reply = await http.request("GET", `/view?${query}`, signal);
  if (!isSuccess(reply)) throw httpStatusError(reply, undefined);
  const contentType = imageContentType(reply.body);
  if (!contentType) throw new UpstreamAttemptError("invalid_response", "upstream returned bytes that are not an image");
  return { bytes: reply.body, contentType };
}

/**
 * ComfyUI: the model card's workflow with our request placed into its
 * nodes, queued with `POST /prompt`, awaited by polling `/history/{id}`
 * (backing off from pollMinMs to pollMaxMs: cheap, and needs no websocket
 * per request), images fetched from `/view`. ComfyUI queues instead of
 * refusing work, so the worker's slots are what keep its queue short.
 */
export function createComfyUpstream(options: ComfyUpstreamOptions): ImageUpstream {
  const filler = createWorkflowFiller(options.workflow);
  const http = createUpstreamHttp({
    baseUrl: options.baseUrl,
    connections: options.connections,
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
  });
  const pollMinMs = options.pollMinMs ?? 20;
  const pollMaxMs = options.pollMaxMs ?? 500;
  const clientId = randomUUID();

  /** A prompt we stop waiting for would still burn the GPU: take it off the queue, or interrupt it. */
  function cancel(promptId: string): void {
    const signal = AbortSignal.timeout(2000);
    void http.request("POST", "/queue", signal, { delete: [promptId] }).catch(() => {});
    void http.request("POST", "/interrupt", signal, { prompt_id: promptId }).catch(() => {});
  }

  /** `POST /upload/image`: ComfyUI keeps the file in its input folder under the name it answers. */
  async function upload(image: InputImage, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append("image", new Blob([image.bytes], { type: image.contentType }), `imagegen-${randomUUID()}.png`);
    form.append("overwrite", "true");
    const reply = await http.postForm("/upload/image", signal, form);
    if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, comfyErrorSchema, comfyErrorMessage));
    return parseReply(reply, comfyUploadSchema).name;
  }

  async function uploadInputs(edit: EditInputs | undefined, signal: AbortSignal): Promise<UploadedInputs | undefined> {
    if (edit === undefined || edit.images[0] === undefined) return undefined;
    const [image, mask] = await Promise.all([upload(edit.images[0], signal), edit.mask === undefined ? undefined : upload(edit.mask, signal)]);
    return { image, mask };
  }

  let previews: ComfyPreviewFeed | undefined;
  async function watchPreviews(promptId: string, partials: UpstreamPartials | undefined): Promise<() => void> {
    if (partials === undefined || partials.count === 0) return () => {};
    previews ??= createComfyPreviewFeed({ baseUrl: options.baseUrl, clientId });
    let sent = 0;
    return previews.watch(promptId, (image) => {
      if (sent >= partials.count || imageContentType(image) === undefined) return;
      sent++;
      partials.emit(image);
    });
  }

  async function awaitHistory(promptId: string, signal: AbortSignal): Promise<ComfyHistoryEntry> {
    for (let waitMs = pollMinMs; ; waitMs = Math.min(pollMaxMs, waitMs * 2)) {
      await sleepFor(waitMs, signal).catch(() => {
        throw new UpstreamAttemptError("timeout", "upstream did not finish before the deadline");
      });
      const reply = await http.request("GET", `/history/${encodeURIComponent(promptId)}`, signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, messageFrom(reply, comfyErrorSchema, comfyErrorMessage));
      const entry = parseReply(reply, comfyHistorySchema)[promptId];
      if (entry?.status?.completed || entry?.status?.status_str === "error") return entry;
    }
  }

  return {
    name: options.name,
    protocol: "comfyui",
    async generate(request, signal) {
      const seedParameter = request.parameters.seed;
      // ComfyUI runs the template's seed as is; without a caller's seed every request would draw the same picture.
      const seed = typeof seedParameter === "number" ? seedParameter : Math.floor(Math.random() * MAX_SEED);
      const uploaded = await uploadInputs(request.edit, signal);
      // Our own prompt id, so previews can be watched before the prompt is queued.
      const ownPromptId = randomUUID();
      const stopWatching = await watchPreviews(ownPromptId, request.partials);
      const queued = await http
        .request("POST", "/prompt", signal, { prompt: filler.fill(request, seed, uploaded), client_id: clientId, prompt_id: ownPromptId })
        .catch((error: unknown) => {
          stopWatching();
          throw error;
        });
      if (!isSuccess(queued)) {
        stopWatching();
        throw httpStatusError(queued, messageFrom(queued, comfyErrorSchema, comfyErrorMessage));
      }
      const { prompt_id: promptId } = parseReply(queued, comfyQueuedSchema);
      try {
        const entry = await awaitHistory(promptId, signal);
        const failure = executionErrorOf(entry);
        if (failure !== undefined) {
          // An execution error (OOM, a node crash) is the server's, like a 500.
          throw new UpstreamAttemptError("http", "workflow execution failed", { status: 500, upstreamMessage: failure });
        }
        const refs = imageRefs(entry, options.workflow.output_node);
        if (refs.length === 0) throw new UpstreamAttemptError("invalid_response", "workflow finished without images");
        return await Promise.all(refs.map((ref) => fetchImage(http, ref, signal)));
      } catch (error) {
        if (signal.aborted) cancel(promptId);
        throw error;
      } finally {
        stopWatching();
      }
    },
    async probe(signal) {
      const reply = await http.request("GET", "/system_stats", signal);
      if (!isSuccess(reply)) throw httpStatusError(reply, undefined);
    },
    async close() {
      previews?.close();
      await http.close();
    },
  };
}
