import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { faultsPatchSchema, simulatorOptionsSchema, type SimulatorOptions, type SimulatorOptionsInput } from "./config.js";
import { createSimCore } from "./core.js";
import { createFileStore } from "./file-store.js";
import { readJsonBody, sendError, sendJson, sendMethodNotAllowed, sendNotFound } from "./http-io.js";
import { MODELS_BODY } from "./protocol.js";
import { createA1111Dialect, createA1111Img2ImgDialect } from "./protocols/a1111.js";
import { createOpenAiEditDialect } from "./protocols/openai-edits.js";
import { createCogDialect } from "./protocols/cog.js";
import { createComfyProtocol } from "./protocols/comfyui.js";
import type { SyncDialect } from "./protocols/dialect.js";
import { createOpenAiDialect } from "./protocols/openai.js";
import { copyStats, type SimulatorStats } from "./stats.js";
import { previewOf } from "./streaming.js";
import { createSyncGenerationHandler } from "./sync-generation.js";

export interface Simulator {
  /** Port 0 picks an ephemeral port; host defaults to 127.0.0.1. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops listening and destroys every connection, hung requests and idle keep-alive sockets included. */
  close(): Promise<void>;
  stats(): SimulatorStats;
  /** Zeroes the counters, forgets per-prompt attempts and reseeds the fault PRNG (same as POST /_sim/reset). */
  resetStats(): void;
  /** Applies a partial fault config; throws a ZodError on invalid values. Setting failFirstAttemptsPerPrompt restarts every prompt's count. */
  setFaults(faults: Partial<SimulatorOptions["faults"]>): void;
}

const FILE_TTL_MS = 10 * 60 * 1000;
const MAX_FILES = 500;
// Longer than common client pool idle timeouts, so the client always closes an
// idle socket first and never reuses one the server is closing (ECONNRESET).
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * One simulated GPU server answering four protocols at once, on different
 * routes: OpenAI images, AUTOMATIC1111 txt2img, Replicate Cog predictions
 * and ComfyUI's prompt queue. They share the GPU slots, counters and faults,
 * so a test points any adapter at the same process and reads one set of stats.
 */
export function createSimulator(input: SimulatorOptionsInput = {}): Simulator {
  const options = simulatorOptionsSchema.parse(input);
  const core = createSimCore(options);
  const files = createFileStore({ ttlMs: FILE_TTL_MS, maxFiles: MAX_FILES });
  // Responses holding a slot, so close() can wait until every slot is given back.
  const slotHolders = new Set<ServerResponse>();
  const handleGeneration = createSyncGenerationHandler(core, slotHolders);
  const comfy = createComfyProtocol(core, files);
  const dialects: Record<string, SyncDialect> = {
    "/v1/images/generations": createOpenAiDialect(files),
    "/v1/images/edits": createOpenAiEditDialect(files),
    "/sdapi/v1/img2img": createA1111Img2ImgDialect(),
    "/sdapi/v1/txt2img": createA1111Dialect(),
    "/predictions": createCogDialect(),
  };

  async function handlePatchFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    if (body.kind === "aborted") return;
    const parsed = body.kind === "json" ? faultsPatchSchema.safeParse(body.value) : null;
    if (parsed === null || !parsed.success) {
      const message = parsed?.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return sendError(res, 400, message ?? "body must be a JSON object of fault settings", "invalid_request_error");
    }
    core.setFaults(parsed.data);
    sendJson(res, 200, JSON.stringify({ faults: core.faults() }));
  }

  /**
   * A1111's `GET /sdapi/v1/progress`: how far the latest running request is,
   * and (unless skipped) its preview as base64 PNG, finer in each third of
   * its simulated GPU time — what a streaming client relays as partials.
   */
  async function answerProgress(res: ServerResponse, withImage: boolean): Promise<void> {
    const latest = [...core.running.values()].at(-1);
    if (latest === undefined) {
      return sendJson(res, 200, '{"progress":0.0,"eta_relative":0.0,"state":{"job_count":0},"current_image":null,"textinfo":null}');
    }
    const progress = Math.min(1, (Date.now() - latest.startedAtMs) / Math.max(1, latest.delayMs));
    const stage = Math.min(2, Math.floor(progress * 3));
    const image = withImage ? (await previewOf(await core.firstImage(latest.request), stage, 3)).toString("base64") : null;
    const etaSeconds = (latest.delayMs * (1 - progress)) / 1000;
    sendJson(res, 200, JSON.stringify({ progress, eta_relative: etaSeconds, state: { job_count: core.running.size }, current_image: image, textinfo: null }));
  }

  /** Cheap readiness answers, as each protocol's own probes expect them. */
  function readiness(path: string): string | undefined {
    switch (path) {
      case "/health":
        return '{"status":"ok"}';
      case "/v1/models":
        return MODELS_BODY;
      case "/health-check":
        return JSON.stringify({ status: core.full() ? "BUSY" : "READY", setup: { status: "succeeded" } });
    }
    return undefined;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname;
    const method = req.method === "HEAD" ? "GET" : req.method;
    const only = (allowed: string, handler: () => void | Promise<void>) =>
      method === allowed ? handler() : sendMethodNotAllowed(res, req.method, allowed === "GET" ? ["GET", "HEAD"] : [allowed]);

    const dialect = dialects[path];
    if (dialect) return only("POST", () => handleGeneration(req, res, dialect));
    if (path === "/sdapi/v1/progress") return only("GET", () => answerProgress(res, url.searchParams.get("skip_current_image") !== "true"));
    const ready = readiness(path);
    if (ready !== undefined) return only("GET", () => sendJson(res, 200, ready));
    const handled = comfy.route(req, res, method, url);
    if (handled !== false) return handled === true ? undefined : handled;
    switch (path) {
      case "/_sim/stats":
        return only("GET", () => sendJson(res, 200, JSON.stringify(core.stats())));
      case "/_sim/reset":
        return only("POST", () => {
          core.resetStats();
          sendJson(res, 200, '{"status":"ok"}');
        });
      case "/_sim/faults":
        if (method === "GET") return sendJson(res, 200, JSON.stringify({ faults: core.faults() }));
        return only("POST", () => handlePatchFaults(req, res));
    }
    const fileId = /^\/files\/([0-9a-f]+)\.png$/.exec(path)?.[1];
    const png = fileId === undefined ? undefined : files.get(fileId);
    if (png === undefined) return sendNotFound(res, path);
    return only("GET", () => {
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      res.end(png);
    });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      sendError(res, 500, `simulator bug: ${error instanceof Error ? error.message : String(error)}`, "server_error");
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on("upgrade", (req, socket) => {
    if (!comfy.upgrade(req, socket)) socket.destroy();
  });

  return {
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address();
          const boundPort = typeof address === "object" && address !== null ? address.port : port;
          const urlHost = host.includes(":") ? `[${host}]` : host;
          resolve({ url: `http://${urlHost}:${boundPort}`, port: boundPort });
        });
      });
    },
    async close() {
      // Destroyed sockets emit 'close' on their responses a tick after the server
      // reports closed; wait for those too so stats read after close() are final.
      const slotsReleased = [...slotHolders].map((res) => new Promise((resolve) => res.once("close", resolve)));
      comfy.close();
      if (server.listening) {
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        });
      }
      await Promise.all(slotsReleased);
    },
    stats: () => copyStats(core.stats()),
    resetStats: () => core.resetStats(),
    setFaults: (faults) => core.setFaults(faults),
  };
}
