import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  faultsPatchSchema,
  simulatorOptionsSchema,
  type FaultOptions,
  type FaultsPatch,
  type SimulatorOptions,
  type SimulatorOptionsInput,
} from "./config.js";
import { createFaultInjector, createSeededRandom, type Fault } from "./faults.js";
import { createFileStore } from "./file-store.js";
import { MAX_BODY_BYTES, readJsonBody, sendError, sendJson, sendMethodNotAllowed, sendNotFound } from "./http-io.js";
import { createImageSource, imageSeedFor } from "./images.js";
import {
  generationResponseBody,
  MODELS_BODY,
  parseGenerationRequest,
  type GenerationRequest,
  type ResponseItem,
} from "./protocol.js";
import { copyStats, emptyStats, type ResponseKind, type SimulatorStats } from "./stats.js";

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
// Latency jitter gets its own PRNG stream so enabling jitter leaves the fault sequence unchanged.
const JITTER_SEED_SALT = 0x5bd1e995;

export function createSimulator(input: SimulatorOptionsInput = {}): Simulator {
  const options = simulatorOptionsSchema.parse(input);
  let faults: FaultOptions = options.faults;
  let stats = emptyStats();
  let garbageCount = 0;
  let jitterRandom = createSeededRandom(options.seed ^ JITTER_SEED_SALT);
  const injector = createFaultInjector(options.seed);
  const images = createImageSource({
    noise: options.noise,
    compressionLevel: options.compressionLevel,
    cacheMaxBytes: options.imageCacheMaxBytes,
  });
  const files = createFileStore({ ttlMs: FILE_TTL_MS, maxFiles: MAX_FILES });

  const count = (kind: ResponseKind) => {
    stats.responses[kind]++;
  };

  function setFaults(patch: FaultsPatch): void {
    const valid = faultsPatchSchema.parse(patch);
    // An explicit `undefined` means "leave as is", not "unset".
    const defined = Object.fromEntries(Object.entries(valid).filter(([, value]) => value !== undefined));
    faults = { ...faults, ...defined };
    if (valid.failFirstAttemptsPerPrompt !== undefined) injector.clearAttempts();
  }

  function resetStats(): void {
    // inFlight is live state, not a counter: requests still running keep their slots.
    stats = emptyStats(stats.inFlight);
    garbageCount = 0;
    jitterRandom = createSeededRandom(options.seed ^ JITTER_SEED_SALT);
    injector.reset();
  }

  // Responses holding a slot, so close() can wait until every slot is given back.
  const slotHolders = new Set<ServerResponse>();

  /** Takes a slot until the returned release runs or the response closes, whichever is first. */
  function admit(res: ServerResponse): () => void {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    slotHolders.add(res);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      slotHolders.delete(res);
      // Decrement whatever stats object is current: resetStats carries inFlight over.
      stats.inFlight--;
    };
    res.once("close", release);
    return release;
  }

  async function handleGeneration(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      count("unauthorized");
      return sendError(res, 401, "Incorrect API key provided.", "invalid_request_error", { code: "invalid_api_key" });
    }
    const body = await readJsonBody(req);
    if (body.kind === "aborted") return;
    if (body.kind === "tooLarge") {
      count("badRequest");
      return sendError(res, 413, `request body exceeds ${MAX_BODY_BYTES} bytes`, "invalid_request_error");
    }
    if (body.kind === "malformed") {
      count("badRequest");
      return sendError(res, 400, body.message, "invalid_request_error");
    }
    const parsed = parseGenerationRequest(body.value);
    if (!parsed.ok) {
      count("badRequest");
      return sendError(res, 400, parsed.message, "invalid_request_error", { param: parsed.param });
    }
    const request = parsed.request;

    if (options.maxConcurrency > 0 && stats.inFlight >= options.maxConcurrency) {
      count("rejected");
      return sendError(res, 429, `all ${options.maxConcurrency} GPU slots are busy`, "requests", {
        code: "rate_limit_exceeded",
        headers: { "retry-after": String(faults.retryAfterSeconds) },
      });
    }
    const release = admit(res);

    const fault = injector.decide(faults, request.prompt);
    if (fault?.kind === "hang") {
      // Never answered: the slot stays taken until the client gives up or close() runs.
      count("hung");
      return;
    }

    const delayMs =
      options.latencyMs +
      Math.floor(jitterRandom() * (options.latencyJitterMs + 1)) +
      options.latencyPerImageMs * request.n;
    const respond = () => {
      // Free the slot before the client can see the response, so a client that
      // sends its next request immediately never finds its own slot still taken.
      release();
      try {
        answer(req, res, request, fault);
      } catch (error) {
        // Runs from a timer, outside route()'s catch: never let a bug crash the server.
        sendError(res, 500, `simulator bug: ${error instanceof Error ? error.message : String(error)}`, "server_error");
      }
    };
    if (delayMs <= 0) return respond();
    const timer = setTimeout(respond, delayMs);
    // A client that gives up during the wait frees its slot (via admit) and the timer.
    res.once("close", () => clearTimeout(timer));
  }

  function answer(req: IncomingMessage, res: ServerResponse, request: GenerationRequest, fault: Fault | null): void {
    if (res.destroyed) return;
    const rateLimitHeaders = { "retry-after": String(faults.retryAfterSeconds) };
    switch (fault?.kind) {
      case "failFirst": {
        const isRateLimit = fault.status === 429;
        count(isRateLimit ? "rateLimited" : "error");
        return sendError(res, fault.status, `simulated failure: attempt ${fault.attempt} for this prompt`, "server_error", {
          headers: isRateLimit ? rateLimitHeaders : {},
        });
      }
      case "error":
        count("error");
        return sendError(res, 500, "The server had an error while processing your request.", "server_error");
      case "rateLimit":
        count("rateLimited");
        return sendError(res, 429, "Rate limit reached for requests.", "requests", {
          code: "rate_limit_exceeded",
          headers: rateLimitHeaders,
        });
      case "reset":
        count("reset");
        req.socket.destroy();
        return;
      case "garbage":
        count("garbage");
        return sendJson(res, 200, garbageBody(garbageCount++));
      default:
        return sendSuccess(req, res, request);
    }
  }

  function sendSuccess(req: IncomingMessage, res: ServerResponse, request: GenerationRequest): void {
    const items: ResponseItem[] = [];
    for (let index = 0; index < request.n; index++) {
      const seed = imageSeedFor(request.prompt, request.seed, index, options.seed);
      const image = images.get(seed, request.width, request.height);
      items.push(
        request.responseFormat === "b64_json"
          ? { b64Json: image.b64 }
          : { url: `http://${req.headers.host ?? "127.0.0.1"}/files/${files.put(image.png)}.png` },
      );
    }
    const revisedPrompt = options.revisedPrompt ? `${request.prompt} (as rendered by ${request.model})` : null;
    count("ok");
    stats.images += request.n;
    sendJson(res, 200, generationResponseBody(Math.floor(Date.now() / 1000), items, revisedPrompt));
  }

  async function handlePatchFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    if (body.kind === "aborted") return;
    const parsed = body.kind === "json" ? faultsPatchSchema.safeParse(body.value) : null;
    if (parsed === null || !parsed.success) {
      const message = parsed?.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return sendError(res, 400, message ?? "body must be a JSON object of fault settings", "invalid_request_error");
    }
    setFaults(parsed.data);
    sendJson(res, 200, JSON.stringify({ faults }));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const method = req.method === "HEAD" ? "GET" : req.method;
    const only = (allowed: string, handler: () => void | Promise<void>) =>
      method === allowed ? handler() : sendMethodNotAllowed(res, req.method, allowed === "GET" ? ["GET", "HEAD"] : [allowed]);

    switch (path) {
      case "/v1/images/generations":
        return only("POST", () => handleGeneration(req, res));
      case "/health":
        return only("GET", () => sendJson(res, 200, '{"status":"ok"}'));
      case "/v1/models":
        return only("GET", () => sendJson(res, 200, MODELS_BODY));
      case "/_sim/stats":
        return only("GET", () => sendJson(res, 200, JSON.stringify(stats)));
      case "/_sim/reset":
        return only("POST", () => {
          resetStats();
          sendJson(res, 200, '{"status":"ok"}');
        });
      case "/_sim/faults":
        if (method === "GET") return sendJson(res, 200, JSON.stringify({ faults }));
        return only("POST", () => handlePatchFaults(req, res));
    }
    const fileId = /^\/files\/([0-9a-f]+)\.png$/.exec(path)?.[1];
    if (fileId === undefined) return sendNotFound(res, path);
    const png = files.get(fileId);
    if (png === undefined) return sendNotFound(res, path);
    return only("GET", () => {
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      res.end(png);
    });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // Unexpected: answer a plain 500 rather than leave the client hanging (hangs are only ever deliberate).
      const message = error instanceof Error ? error.message : String(error);
      sendError(res, 500, `simulator bug: ${message}`, "server_error");
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;

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
      if (server.listening) {
        await new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        });
      }
      await Promise.all(slotsReleased);
    },
    stats: () => copyStats(stats),
    resetStats,
    setFaults,
  };
}

/** Alternates the two ways a broken upstream lies: cut-off JSON, and valid JSON of the wrong shape. */
function garbageBody(sequence: number): string {
  return sequence % 2 === 0
    ? '{"created":1700000000,"data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAA'
    : '{"object":"list","results":[{"image":"not an image"}],"status":"done"}';
}
