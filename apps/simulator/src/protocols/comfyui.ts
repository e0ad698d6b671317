import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { SimCore } from "../core.js";
import type { Fault } from "../faults.js";
import type { Duplex } from "node:stream";
import type { FileStore } from "../file-store.js";
import { previewOf } from "../streaming.js";
import { createComfyEventSockets } from "./comfyui-ws.js";
import { MAX_BODY_BYTES, readJsonBody, readMultipartBody, sendJson } from "../http-io.js";
import { MAX_IMAGE_SIDE, MAX_IMAGES_PER_REQUEST, type GenerationRequest } from "../protocol.js";

/**
 * ComfyUI's HTTP API (server.py): `POST /prompt` queues an API-format
 * workflow and answers its id at once; `GET /history/{id}` is `{}` until
 * the prompt finished; `GET /view` serves the images; `POST /queue
 * {delete}` and `POST /interrupt` cancel. ComfyUI queues instead of
 * refusing work: prompts beyond the GPU slots wait, and `inFlight` counts
 * every accepted, unfinished prompt, so `maxInFlight` shows how deep a
 * client let the queue grow. The simulator reads the standard txt2img
 * graph: the first CLIPTextEncode's text, EmptyLatentImage's size and
 * batch, KSampler's seed, and a SaveImage node for output.
 */
const nodeSchema = z.looseObject({ class_type: z.string(), inputs: z.record(z.string(), z.unknown()).default({}) });
// Newer ComfyUI takes a client-chosen prompt_id, so a client can watch its events before queueing.
const promptSchema = z.looseObject({
  prompt: z.record(z.string(), nodeSchema),
  client_id: z.string().optional(),
  prompt_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional(),
});

interface PromptEntry {
  id: string;
  /** Whose event socket hears about it (`client_id` of POST /prompt). */
  clientId?: string | undefined;
  previewTimers?: NodeJS.Timeout[];
  request: GenerationRequest;
  outputNode: string;
  fault: Fault | null;
  state: "pending" | "running" | "done";
  release: () => void;
  timer?: NodeJS.Timeout;
  /** The `/history/{id}` body once done. */
  history?: string;
  garbage?: number;
}

const MAX_FINISHED_KEPT = 1000;

function comfyError(type: string, message: string, details = ""): string {
  return JSON.stringify({ error: { type, message, details, extra_info: {} }, node_errors: {} });
}

/** Uploaded input images by name (`/upload/image`), bounded like ComfyUI's input folder would not be. */
const MAX_UPLOADS_KEPT = 200;
const uploadSchema = z.looseObject({ image: z.instanceof(Buffer) });

function readWorkflow(
  workflow: Record<string, z.infer<typeof nodeSchema>>,
  uploads: ReadonlyMap<string, Buffer>,
): { request: GenerationRequest; outputNode: string } | string {
  const nodes = Object.entries(workflow);
  const byClass = (name: string) => nodes.find(([, node]) => node.class_type === name);
  // Edits: LoadImage nodes name uploaded images; LoadImageMask (alpha channel: transparent = repaint) the mask.
  const uploaded = (node: [string, z.infer<typeof nodeSchema>] | undefined) => {
    const name = node?.[1].inputs.image;
    return typeof name === "string" ? uploads.get(name) : undefined;
  };
  const loaders = nodes.filter(([, node]) => node.class_type === "LoadImage");
  const images = loaders.map((node) => uploaded(node));
  const maskNode = byClass("LoadImageMask");
  const mask = uploaded(maskNode);
  if (images.some((image) => image === undefined) || (maskNode !== undefined && mask === undefined)) return "Invalid image file";
  const text = byClass("CLIPTextEncode")?.[1].inputs.text;
  const latent = byClass("EmptyLatentImage")?.[1].inputs ?? {};
  const seed = byClass("KSampler")?.[1].inputs.seed;
  const output = byClass("SaveImage");
  if (!output) return "prompt_no_outputs";
  if (typeof text !== "string" || text.length === 0) return "CLIPTextEncode needs a non-empty text";
  const int = (value: unknown, fallback: number, max: number) => (Number.isInteger(value) && (value as number) >= 1 ? Math.min(value as number, max) : fallback);
  return {
    outputNode: output[0],
    request: {
      model: "sim",
      prompt: text,
      n: int(latent.batch_size, 1, MAX_IMAGES_PER_REQUEST),
      width: int(latent.width, 512, MAX_IMAGE_SIDE),
      height: int(latent.height, 512, MAX_IMAGE_SIDE),
      responseFormat: "b64_json",
      seed,
      ...(images.length === 0 ? {} : { edit: { images: images.filter((image) => image !== undefined), mask, maskMode: "transparent" as const } }),
    },
  };
}

export function createComfyProtocol(core: SimCore, files: FileStore) {
  const events = createComfyEventSockets();
  const prompts = new Map<string, PromptEntry>();
  const uploads = new Map<string, Buffer>();
  const pending: PromptEntry[] = [];
  let running = 0;
  let number = 0;

  function finish(entry: PromptEntry, history: string | undefined, garbage?: number): void {
    if (entry.state === "done") return;
    if (entry.state === "running") running--;
    entry.state = "done";
    clearTimeout(entry.timer);
    entry.previewTimers?.forEach(clearTimeout);
    events.sendJson(entry.clientId, { type: "executing", data: { node: null, prompt_id: entry.id } });
    entry.release();
    if (history !== undefined) entry.history = history;
    if (garbage !== undefined) entry.garbage = garbage;
    // Bound memory: forget the oldest finished prompts (Map keeps insertion order).
    if (prompts.size > MAX_FINISHED_KEPT) {
      for (const [id, old] of prompts) {
        if (prompts.size <= MAX_FINISHED_KEPT) break;
        if (old.state === "done") prompts.delete(id);
      }
    }
    pump();
  }

  function historyOf(entry: PromptEntry, outputs: object, status: "success" | "error", messages: unknown[]): string {
    return JSON.stringify({ [entry.id]: { prompt: [0, entry.id, {}, {}, [entry.outputNode]], outputs, status: { status_str: status, completed: status === "success", messages } } });
  }

  function execute(entry: PromptEntry): void {
    const fault = entry.fault;
    if (fault?.kind === "error" || fault?.kind === "failFirst") {
      core.count("error");
      const message = fault.kind === "failFirst" ? `simulated failure: attempt ${fault.attempt} for this prompt` : "CUDA out of memory (simulated)";
      return finish(entry, historyOf(entry, {}, "error", [["execution_error", { prompt_id: entry.id, node_id: "3", exception_message: message }]]));
    }
    if (fault?.kind === "garbage") {
      core.count("garbage");
      return finish(entry, undefined, core.nextGarbage());
    }
    Promise.resolve(core.produce(entry.request)).then(
      (produced) => {
        const images = produced.map((image) => ({ filename: `${files.put(image.bytes)}.png`, subfolder: "", type: "output" }));
        core.count("ok");
        finish(entry, historyOf(entry, { [entry.outputNode]: { images } }, "success", [["execution_success", { prompt_id: entry.id }]]));
      },
      (error: unknown) => {
        core.count("error");
        const message = error instanceof Error ? error.message : String(error);
        finish(entry, historyOf(entry, {}, "error", [["execution_error", { prompt_id: entry.id, node_id: "10", exception_message: message }]]));
      },
    );
  }

  /** `POST /upload/image` (multipart `image`): stored under its file name, as ComfyUI's input folder does. */
  async function handleUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readMultipartBody(req);
    if (body.kind === "aborted") return;
    const upload = body.kind === "json" ? uploadSchema.safeParse(body.value) : undefined;
    if (!upload?.success) return sendJson(res, 400, comfyError("invalid_upload", "image file is required"));
    const image = upload.data.image;
    const name = `upload_${randomBytes(8).toString("hex")}.png`;
    uploads.set(name, image);
    if (uploads.size > MAX_UPLOADS_KEPT) uploads.delete(uploads.keys().next().value!);
    sendJson(res, 200, JSON.stringify({ name, subfolder: "", type: "input" }));
  }

  /**
   * What ComfyUI's sampler shows a watching client: `executing` for the
   * prompt, then three previews (coarse to fine) over its GPU time.
   */
  function startPreviews(entry: PromptEntry, delayMs: number): void {
    if (entry.clientId === undefined) return;
    events.sendJson(entry.clientId, { type: "executing", data: { node: "3", display_node: "3", prompt_id: entry.id } });
    const first = core.firstImage(entry.request);
    first.catch(() => undefined);
    entry.previewTimers = [0, 1, 2].map((stage) =>
      setTimeout(() => {
        void first
          .then((png) => previewOf(png, stage, 3))
          .then((preview) => {
            if (entry.state === "running") events.sendPreview(entry.clientId, preview);
          })
          .catch(() => undefined);
      }, Math.floor((delayMs * (stage + 1)) / 4)),
    );
  }

  /** Starts queued prompts while GPU slots are free. */
  function pump(): void {
    const slots = core.options.maxConcurrency;
    while (pending.length > 0 && (slots === 0 || running < slots)) {
      const entry = pending.shift()!;
      entry.state = "running";
      running++;
      if (entry.fault?.kind === "hang") {
        // Holds its GPU slot until interrupted or the server closes.
        core.count("hung");
        continue;
      }
      const delayMs = core.delayMs(entry.request.n);
      entry.timer = setTimeout(() => execute(entry), delayMs);
      startPreviews(entry, delayMs);
    }
  }

  async function handlePrompt(req: IncomingMessage, res: ServerResponse): Promise<void> {
    core.stats().requests++;
    const { apiKey } = core.options;
    if (apiKey !== undefined && req.headers.authorization !== `Bearer ${apiKey}`) {
      core.count("unauthorized");
      return sendJson(res, 401, comfyError("unauthorized", "Unauthorized"));
    }
    const body = await readJsonBody(req);
    if (body.kind === "aborted") return;
    if (body.kind !== "json") {
      core.count("badRequest");
      return sendJson(res, body.kind === "tooLarge" ? 413 : 400, comfyError("invalid_prompt", body.kind === "tooLarge" ? `body over ${MAX_BODY_BYTES} bytes` : body.message));
    }
    const parsed = promptSchema.safeParse(body.value);
    const workflow = parsed.success ? readWorkflow(parsed.data.prompt, uploads) : "invalid_prompt";
    if (typeof workflow === "string") {
      core.count("badRequest");
      return sendJson(res, 400, comfyError(workflow, "Prompt outputs failed validation", workflow));
    }
    const fault = core.decideFault(workflow.request.prompt);
    const retryAfter = { "retry-after": String(core.faults().retryAfterSeconds) };
    if (fault?.kind === "reset") {
      core.count("reset");
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "rateLimit" || (fault?.kind === "failFirst" && fault.status === 429)) {
      // ComfyUI has no overload answer; the reverse proxy in front of a shared one does.
      core.count("rateLimited");
      return sendJson(res, 429, comfyError("rate_limited", "Too many prompts queued"), retryAfter);
    }
    if (fault?.kind === "failFirst" && fault.status !== 500) {
      core.count("error");
      return sendJson(res, fault.status, comfyError("server_error", `simulated failure: attempt ${fault.attempt} for this prompt`));
    }
    const id = parsed.success && parsed.data.prompt_id !== undefined ? parsed.data.prompt_id : randomBytes(16).toString("hex");
    if (prompts.has(id)) {
      core.count("badRequest");
      return sendJson(res, 400, comfyError("invalid_prompt", `prompt_id ${id} is already queued`));
    }
    const clientId = parsed.success ? parsed.data.client_id : undefined;
    const entry: PromptEntry = { id, clientId, ...workflow, fault, state: "pending", release: core.admit() };
    prompts.set(entry.id, entry);
    pending.push(entry);
    sendJson(res, 200, JSON.stringify({ prompt_id: entry.id, number: number++, node_errors: {} }));
    pump();
  }

  function handleHistory(res: ServerResponse, id: string): void {
    const entry = prompts.get(id);
    if (entry?.state !== "done") return sendJson(res, 200, "{}");
    if (entry.garbage !== undefined) {
      // Cut-off JSON, then a finished prompt whose "image" is not one.
      return sendJson(res, 200, entry.garbage % 2 === 0 ? `{"${id}":{"outputs":{"9":{"images":[{"filen` : JSON.stringify({ [id]: { outputs: { [entry.outputNode]: { images: [{ filename: "missing.png", subfolder: "", type: "output" }] } }, status: { status_str: "success", completed: true, messages: [] } } }));
    }
    sendJson(res, 200, entry.history ?? "{}");
  }

  function handleView(res: ServerResponse, url: URL): void {
    const fileId = /^([0-9a-f]+)\.png$/.exec(url.searchParams.get("filename") ?? "")?.[1];
    const png = fileId === undefined ? undefined : files.get(fileId);
    // Real ComfyUI answers 404 for a file it does not have; the garbage history points at one.
    if (png === undefined) return sendJson(res, 200, '{"not":"an image"}');
    res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
    res.end(png);
  }

  async function handleCancel(req: IncomingMessage, res: ServerResponse, kind: "queue" | "interrupt"): Promise<void> {
    const body = await readJsonBody(req);
    const value = body.kind === "json" && typeof body.value === "object" && body.value !== null ? (body.value as Record<string, unknown>) : {};
    if (kind === "queue") {
      const ids = Array.isArray(value.delete) ? value.delete : [];
      for (const id of ids) {
        const entry = typeof id === "string" ? prompts.get(id) : undefined;
        if (entry?.state !== "pending") continue;
        pending.splice(pending.indexOf(entry), 1);
        finish(entry, historyOf(entry, {}, "error", [["execution_interrupted", { prompt_id: entry.id }]]));
      }
    } else {
      const target = typeof value.prompt_id === "string" ? value.prompt_id : undefined;
      for (const entry of prompts.values()) {
        if (entry.state === "running" && (target === undefined || entry.id === target)) {
          finish(entry, historyOf(entry, {}, "error", [["execution_interrupted", { prompt_id: entry.id }]]));
        }
      }
    }
    sendJson(res, 200, "{}");
  }

  return {
    /** Answers the request when the path is one of ComfyUI's; false otherwise. */
    route(req: IncomingMessage, res: ServerResponse, method: string | undefined, url: URL): Promise<void> | boolean {
      const path = url.pathname;
      if (method === "POST" && path === "/prompt") return handlePrompt(req, res);
      if (method === "POST" && path === "/upload/image") return handleUpload(req, res);
      if (method === "GET" && path.startsWith("/history/")) return (handleHistory(res, decodeURIComponent(path.slice("/history/".length))), true);
      if (method === "GET" && path === "/view") return (handleView(res, url), true);
      if (method === "POST" && (path === "/queue" || path === "/interrupt")) return handleCancel(req, res, path === "/queue" ? "queue" : "interrupt");
      if (method === "GET" && path === "/queue") {
        const list = (state: PromptEntry["state"]) => [...prompts.values()].filter((entry) => entry.state === state).map((entry) => [0, entry.id]);
        return (sendJson(res, 200, JSON.stringify({ queue_running: list("running"), queue_pending: list("pending") })), true);
      }
      if (method === "GET" && path === "/system_stats") {
        return (sendJson(res, 200, JSON.stringify({ system: { os: "posix", comfyui_version: "sim" }, devices: [{ name: "sim", type: "cuda", vram_total: 0, vram_free: 0 }] })), true);
      }
      return false;
    },
    /** Ends every unfinished prompt (server close), releasing its slot. */
    /** ComfyUI's `/ws` event socket (an HTTP upgrade). */
    upgrade: (req: IncomingMessage, socket: Duplex) => events.upgrade(req, socket),
    close(): void {
      events.close();
      pending.length = 0;
      for (const entry of [...prompts.values()]) finish(entry, undefined);
    },
  };
}
