import { SpanKind, withSpan, type Logger, type ModelCard, type ModelCatalog, type UpstreamSpec } from "@imagegen/shared";
import type { WorkerMetrics } from "../metrics.js";
import { createCircuitBreaker, type AttemptVerdict } from "./circuit-breaker.js";
import { createUpstreamClient } from "./create-client.js";
import { imagesPerCall, partRequest, planParts } from "./fan-out.js";
import { createProbeRunner } from "./health.js";
import type { GlobalSlots } from "./global-slots.js";
import { createUpstreamPool, NoHealthyUpstreamError, type PoolMember } from "./pool.js";
import { toServiceError, withRetries } from "./retry.js";
import { UpstreamAttemptError, type GeneratedImage, type ImageUpstream, type UpstreamImageRequest } from "./upstream.js";
import { deadlineSignal } from "./deadline.js";
import { meaningOf } from "./status-table.js";
import type { UpstreamUsage } from "./usage.js";

export interface GenerationOutcome {
  /** The upstreams that produced the images, comma-separated when the request was split. */
  upstream: string;
  images: GeneratedImage[];
}

export interface UpstreamRouter {
  /**
   * The request's images, in order. Throws a ServiceError with the public
   * meaning of the final failure, or NoHealthyUpstreamError when every
   * upstream of the model is out (the caller decides: fail or wait).
   */
  generate(card: ModelCard, request: Omit<UpstreamImageRequest, "model">, deadlineAt: number, log: Logger): Promise<GenerationOutcome>;
  /** In-flight, capacity and health per upstream, for metrics. */
  usage(): UpstreamUsage[];
  /** Requests waiting for a GPU slot in this process. */
  waitingForSlot(): number;
  /** Starts the active health probes. */
  start(): void;
  close(): Promise<void>;
}

export interface UpstreamRouterDeps {
  catalog: ModelCatalog;
  env: Record<string, string | undefined>;
  metrics: WorkerMetrics;
  log: Logger;
  /** Caps each upstream's max_concurrency across all worker processes; without it, per process. */
  globalSlots?: GlobalSlots;
  /** Tests swap adapters; by default the protocol's own. */
  createClient?: (spec: UpstreamSpec) => ImageUpstream;
  now?: () => number;
}

/** What an attempt's failure says about the upstream, for its circuit breaker; see the status table. */
export function verdictOf(error: UpstreamAttemptError): AttemptVerdict {
  return meaningOf(error).breaker;
}

/**
 * Holds one client, one breaker and one slot count per upstream (shared by
 * every model it serves) and runs each request against the model's pool:
 * split into parts when it asks for more images than one call may carry,
 * each part retried with failover to another healthy upstream.
 */
export function createUpstreamRouter(deps: UpstreamRouterDeps): UpstreamRouter {
  const now = deps.now ?? Date.now;
  const createClient = deps.createClient ?? ((spec: UpstreamSpec) => createUpstreamClient(spec, deps.env));
  const members = new Map<string, PoolMember>();
  let pokeQueued = false;
  // Breaker transitions happen while the pool reads states; re-examine waiters afterwards, not re-entrantly.
  const pokeSoon = () => {
    if (pokeQueued) return;
    pokeQueued = true;
    queueMicrotask(() => {
      pokeQueued = false;
      pool.poke();
    });
  };

  for (const card of deps.catalog.models) {
    for (const spec of card.upstreams) {
      const known = members.get(spec.name);
      if (known) {
        if (known.spec.base_url !== spec.base_url || known.spec.protocol !== spec.protocol) {
          throw new Error(`upstream '${spec.name}' is declared twice with different base_url or protocol`);
        }
        continue;
      }
      const breaker = createCircuitBreaker(spec.circuit_breaker, {
        now,
        onTransition: (from, to) => {
          const fields = { upstream: spec.name, from, to };
          if (to === "open") deps.log.warn({ ...fields, cooldownMs: spec.circuit_breaker.cooldown_ms }, "upstream circuit opened");
          else deps.log.info(fields, "upstream circuit changed");
          pokeSoon();
        },
      });
      members.set(spec.name, { spec, client: createClient(spec), breaker, inFlight: 0, probeHealthy: true, nextProbeAtMs: 0, lastSuccessAtMs: 0, notBeforeMs: 0, globallyFullUntilMs: 0 });
    }
  }
  const pool = createUpstreamPool([...members.values()], now, deps.globalSlots, deps.log);
  const probes = createProbeRunner({ members: [...members.values()], log: deps.log, onChange: pokeSoon });

  async function attempt(member: PoolMember, card: ModelCard, request: Omit<UpstreamImageRequest, "model">, signal: AbortSignal): Promise<GeneratedImage[]> {
    const { spec } = member;
    const stopTimer = deps.metrics.upstreamRequestSeconds.startTimer({ upstream: spec.name, protocol: spec.protocol });
    try {
      const images = await withSpan(
        `upstream generate ${spec.protocol}`,
        { kind: SpanKind.CLIENT, attributes: { "imagegen.upstream": spec.name, "imagegen.upstream.protocol": spec.protocol, "imagegen.model": card.id, "imagegen.images": request.n } },
        async () => {
          const attemptDeadline = deadlineSignal(spec.timeout_ms, "upstream attempt timed out");
          try {
            return await member.client.generate({ ...request, model: spec.model ?? card.id }, AbortSignal.any([signal, attemptDeadline.signal]));
          } finally {
            attemptDeadline.clear();
          }
        },
      );
      if (images.length < request.n) {
        throw new UpstreamAttemptError("invalid_response", `upstream returned ${images.length} of ${request.n} images`);
      }
      stopTimer({ outcome: "ok" });
      return images.slice(0, request.n);
    } catch (error) {
      stopTimer({ outcome: error instanceof UpstreamAttemptError ? error.kind : "error" });
      throw error instanceof UpstreamAttemptError ? error : new UpstreamAttemptError("invalid_response", String(error), { cause: error });
    }
  }

  async function generatePart(
    card: ModelCard,
    request: Omit<UpstreamImageRequest, "model">,
    deadlineAt: number,
    /** The request's deadline and its sibling parts' failure. */
    signal: AbortSignal,
    cancelled: AbortSignal,
    log: Logger,
  ): Promise<{ upstream: string; images: GeneratedImage[] }> {
    const names = card.upstreams.map((upstream) => upstream.name);
    const policy = card.upstreams[0]!;
    const tried = new Set<string>();
    let current: PoolMember | undefined;
    let previous: string | undefined;
    const images = await withRetries(
      { maxAttempts: policy.max_attempts, baseDelayMs: policy.retry_base_delay_ms, maxDelayMs: policy.retry_max_delay_ms },
      deadlineAt,
      signal,
      async () => {
        let lease;
        const waitStartedMs = now();
        try {
          lease = await pool.acquire(names, signal, tried);
          deps.metrics.upstreamSlotWaitSeconds.observe({ model: card.id }, (now() - waitStartedMs) / 1000);
        } catch (error) {
          if (error instanceof NoHealthyUpstreamError || cancelled.aborted) throw error;
          throw new UpstreamAttemptError("timeout", "no free upstream slot before the deadline");
        }
        current = lease.member;
        if (previous !== undefined && previous !== current.spec.name) {
          deps.metrics.upstreamFailovers.inc({ from: previous, to: current.spec.name });
        }
        previous = current.spec.name;
        tried.add(current.spec.name);
        try {
          const result = await attempt(current, card, request, signal);
          lease.release("success");
          return result;
        } catch (error) {
          const failure = error as UpstreamAttemptError;
          // Stopped by the request's own deadline or a failed sibling part: that
          // says nothing about this upstream. Its slowness is judged by the
          // per-attempt timeout (timeout_ms) alone.
          lease.release(signal.aborted ? "neutral" : verdictOf(failure), failure.details.retryAfterMs);
          throw failure;
        }
      },
      {
        canFailOver: () => pool.hasAlternative(names, tried),
        onRetry: (error, attemptNumber, delayMs) => {
          const upstream = current?.spec.name ?? "";
          deps.metrics.upstreamRetries.inc({ upstream, reason: error.kind === "http" ? String(error.details.status) : error.kind });
          log.warn({ upstream, attempt: attemptNumber, delayMs, reason: error.message }, "upstream attempt failed; retrying");
        },
      },
    );
    return { upstream: current!.spec.name, images };
  }

  return {
    async generate(card, request, deadlineAt, log) {
      const parts = planParts(request.n, imagesPerCall(card, request.n));
      // One failed part fails the request: stop the others instead of paying for images nobody will get.
      const cancel = new AbortController();
      const requestDeadline = deadlineSignal(deadlineAt - now(), "request deadline passed");
      const signal = AbortSignal.any([requestDeadline.signal, cancel.signal]);
      try {
        const results = await Promise.all(
          parts.map((part) =>
            generatePart(card, partRequest(request, part), deadlineAt, signal, cancel.signal, log).catch((error: unknown) => {
              cancel.abort(error);
              throw error;
            }),
          ),
        );
        return {
          upstream: [...new Set(results.map((result) => result.upstream))].join(","),
          images: results.flatMap((result) => result.images),
        };
      } catch (error) {
        if (error instanceof UpstreamAttemptError) {
          log.warn({ reason: error.message, status: error.details.status }, "upstream failed");
          throw toServiceError(error);
        }
        throw error;
      } finally {
        requestDeadline.clear();
      }
    },
    usage() {
      return [...members.values()].map((member) => ({
        upstream: member.spec.name,
        protocol: member.spec.protocol,
        inFlight: member.inFlight,
        capacity: member.spec.max_concurrency,
        circuitState: member.breaker.state,
        healthy: member.probeHealthy && member.breaker.state !== "open",
      }));
    },
    waitingForSlot: () => pool.waiting(),
    start: () => probes.start(),
    async close() {
      probes.stop();
      await Promise.all([...members.values()].map((member) => member.client.close()));
    },
  };
}
