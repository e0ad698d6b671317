import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimCore } from "./core.js";
import { InvalidInputImageError } from "./edit-image.js";
import type { Fault } from "./faults.js";
import { streamImages } from "./streaming.js";
import { MAX_BODY_BYTES, readJsonBody } from "./http-io.js";
import type { SyncDialect } from "./protocols/dialect.js";

/**
 * One synchronous generation request, whatever the protocol:
 * auth → body → slot (busy answer beyond the slots) → fault decision →
 * latency → answer. The slot is released just before the answer is written,
 * so a client that sends its next request as soon as it reads a response
 * never finds its previous slot still taken.
 */
export function createSyncGenerationHandler(core: SimCore, slotHolders: Set<ServerResponse>) {
  /** Takes a slot until the returned release runs or the response closes, whichever is first. */
  function admit(res: ServerResponse): () => void {
    const releaseSlot = core.admit();
    slotHolders.add(res);
    const release = () => {
      slotHolders.delete(res);
      releaseSlot();
    };
    res.once("close", release);
    return release;
  }

  async function answer(req: IncomingMessage, res: ServerResponse, dialect: SyncDialect, fault: Fault | null, request: Parameters<SimCore["render"]>[0]): Promise<void> {
    if (res.destroyed) return;
    const retryAfterSeconds = core.faults().retryAfterSeconds;
    switch (fault?.kind) {
      case "failFirst":
        if (fault.status === 429) {
          core.count("rateLimited");
          return dialect.send(res, { kind: "rateLimit", retryAfterSeconds, message: `simulated failure: attempt ${fault.attempt} for this prompt` });
        }
        core.count("error");
        return dialect.send(res, { kind: "error", status: fault.status, message: `simulated failure: attempt ${fault.attempt} for this prompt` });
      case "error":
        core.count("error");
        return dialect.send(res, { kind: "error", status: 500, message: "The server had an error while processing your request." });
      case "rateLimit":
        core.count("rateLimited");
        return dialect.send(res, { kind: "rateLimit", retryAfterSeconds, message: "Rate limit reached for requests." });
      case "reset":
        core.count("reset");
        req.socket.destroy();
        return;
      case "garbage":
        core.count("garbage");
        return dialect.send(res, { kind: "garbage", sequence: core.nextGarbage() });
      default: {
        let images;
        try {
          images = await core.produce(request);
        } catch (error) {
          if (!(error instanceof InvalidInputImageError)) throw error;
          core.count("badRequest");
          return dialect.send(res, { kind: "badRequest", message: error.message, param: error.field });
        }
        core.count("ok");
        return dialect.send(res, { kind: "ok", request, images, host: req.headers.host ?? "127.0.0.1", revisedPrompt: core.revisedPrompt(request) });
      }
    }
  }

  return async function handleGeneration(req: IncomingMessage, res: ServerResponse, dialect: SyncDialect): Promise<void> {
    const stats = core.stats();
    stats.requests++;
    const { apiKey } = core.options;
    const credentials = req.headers.authorization;
    if (apiKey !== undefined && credentials !== `Bearer ${apiKey}` && credentials !== `Basic ${Buffer.from(apiKey).toString("base64")}`) {
      core.count("unauthorized");
      return dialect.send(res, { kind: "unauthorized" });
    }
    const body = await (dialect.readBody ?? readJsonBody)(req);
    if (body.kind === "aborted") return;
    if (body.kind === "tooLarge") {
      core.count("badRequest");
      return dialect.send(res, { kind: "tooLarge", limitBytes: MAX_BODY_BYTES });
    }
    if (body.kind === "malformed") {
      core.count("badRequest");
      return dialect.send(res, { kind: "badRequest", message: body.message, param: null });
    }
    const parsed = dialect.parse(body.value);
    if (!parsed.ok) {
      core.count("badRequest");
      return dialect.send(res, { kind: "badRequest", message: parsed.message, param: parsed.param });
    }
    const request = parsed.request;

    if (core.full()) {
      core.count("rejected");
      return dialect.send(res, { kind: "busy", slots: core.options.maxConcurrency, retryAfterSeconds: core.faults().retryAfterSeconds });
    }
    const release = admit(res);

    const fault = core.decideFault(request.prompt);
    if (fault?.kind === "hang") {
      // Never answered: the slot stays taken until the client gives up or close() runs.
      core.count("hung");
      return;
    }

    const delayMs = core.delayMs(request.n);
    const { stream } = request;
    if (stream !== undefined && fault === null && dialect.name.startsWith("openai")) return streamImages(res, core, { ...request, stream }, delayMs, release);
    // A1111's progress endpoint shows what is running.
    const running = { request, startedAtMs: Date.now(), delayMs };
    core.running.set(running, running);
    res.once("close", () => core.running.delete(running));
    const respond = () => {
      core.running.delete(running);
      release();
      // Runs from a timer, outside the router's catch: never let a bug crash the server.
      answer(req, res, dialect, fault, request).catch((error: unknown) => {
        dialect.send(res, { kind: "error", status: 500, message: `simulator bug: ${error instanceof Error ? error.message : String(error)}` });
      });
    };
    if (delayMs <= 0) return respond();
    const timer = setTimeout(respond, delayMs);
    // A client that gives up during the wait frees its slot (via admit) and the timer.
    res.once("close", () => clearTimeout(timer));
  };
}
