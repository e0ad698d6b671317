import type { Logger, ModelCard, ModelCatalog, UpstreamSpec } from "@imagegen/shared";
import type { UpstreamUsage, WorkerMetrics } from "../metrics.js";
import { createOpenAiUpstream } from "./openai/client.js";
import { toServiceError, withRetries } from "./retry.js";
import { createSlots, type Slots } from "./slots.js";
import { UpstreamAttemptError, type GeneratedImage, type ImageUpstream, type UpstreamImageRequest } from "./upstream.js";

interface UpstreamEntry {
  spec: UpstreamSpec;
  client: ImageUpstream;
  slots: Slots;
}

export interface GenerationOutcome {
  upstream: string;
  images: GeneratedImage[];
}

export interface UpstreamRouter {
  generate(card: ModelCard, request: Omit<UpstreamImageRequest, "model">, deadlineAt: number, log: Logger): Promise<GenerationOutcome>;
  /** In-flight and capacity per upstream, for metrics. */
  usage(): UpstreamUsage[];
  close(): Promise<void>;
}

function createClient(spec: UpstreamSpec, env: Record<string, string | undefined>): ImageUpstream {
  const apiKey = spec.api_key_env ? env[spec.api_key_env] : undefined;
  if (spec.api_key_env && !apiKey) {
    throw new Error(`upstream '${spec.name}': environment variable ${spec.api_key_env} is not set`);
  }
  switch (spec.protocol) {
    case "openai":
      return createOpenAiUpstream({ name: spec.name, baseUrl: spec.base_url, apiKey, connections: spec.max_concurrency });
  }
}

/**
 * Holds one client and one set of slots per upstream (shared by every model
 * it serves) and sends each attempt to the least busy upstream of the model,
 * so a retry lands elsewhere when there is somewhere else to go.
 */
export function createUpstreamRouter(deps: {
  catalog: ModelCatalog;
  env: Record<string, string | undefined>;
  metrics: WorkerMetrics;
}): UpstreamRouter {
  const entries = new Map<string, UpstreamEntry>();
  for (const card of deps.catalog.models) {
    for (const spec of card.upstreams) {
      const known = entries.get(spec.name);
      if (known) {
        if (known.spec.base_url !== spec.base_url || known.spec.protocol !== spec.protocol) {
          throw new Error(`upstream '${spec.name}' is declared twice with different base_url or protocol`);
        }
        continue;
      }
      entries.set(spec.name, { spec, client: createClient(spec, deps.env), slots: createSlots(spec.max_concurrency) });
    }
  }

  function pick(card: ModelCard): UpstreamEntry {
    let best: UpstreamEntry | undefined;
    for (const spec of card.upstreams) {
      const entry = entries.get(spec.name)!;
      if (!best || entry.slots.inFlight / entry.slots.capacity < best.slots.inFlight / best.slots.capacity) best = entry;
    }
    return best!;
  }

  async function attemptOn(entry: UpstreamEntry, request: UpstreamImageRequest, deadline: AbortSignal): Promise<GeneratedImage[]> {
    let release: () => void;
    try {
      release = await entry.slots.acquire(deadline);
    } catch {
      throw new UpstreamAttemptError("timeout", "no free upstream slot before the deadline");
    }
    const stopTimer = deps.metrics.upstreamRequestSeconds.startTimer({ upstream: entry.spec.name, protocol: entry.spec.protocol });
    try {
      const images = await entry.client.generate(request, AbortSignal.any([deadline, AbortSignal.timeout(entry.spec.timeout_ms)]));
      stopTimer({ outcome: "ok" });
      return images;
    } catch (error) {
      stopTimer({ outcome: error instanceof UpstreamAttemptError ? error.kind : "error" });
      throw error;
    } finally {
      release();
    }
  }

  return {
    async generate(card, request, deadlineAt, log) {
      const deadline = AbortSignal.timeout(Math.max(0, deadlineAt - Date.now()));
      const policy = card.upstreams[0]!;
      let current = pick(card);
      try {
        const images = await withRetries(
          { maxAttempts: policy.max_attempts, baseDelayMs: policy.retry_base_delay_ms, maxDelayMs: policy.retry_max_delay_ms },
          deadlineAt,
          deadline,
          async () => {
            current = pick(card);
            return attemptOn(current, { ...request, model: current.spec.model ?? card.id }, deadline);
          },
          {
            onRetry: (error, attempt, delayMs) => {
              deps.metrics.upstreamRetries.inc({ upstream: current.spec.name, reason: error.kind === "http" ? String(error.details.status) : error.kind });
              log.warn({ upstream: current.spec.name, attempt, delayMs, reason: error.message }, "upstream attempt failed; retrying");
            },
          },
        );
        return { upstream: current.spec.name, images };
      } catch (error) {
        if (error instanceof UpstreamAttemptError) {
          log.warn({ upstream: current.spec.name, reason: error.message, status: error.details.status }, "upstream failed");
          throw toServiceError(error);
        }
        throw error;
      }
    },
    usage() {
      return [...entries.values()].map((entry) => ({
        upstream: entry.spec.name,
        protocol: entry.spec.protocol,
        inFlight: entry.slots.inFlight,
        capacity: entry.slots.capacity,
      }));
    },
    async close() {
      await Promise.all([...entries.values()].map((entry) => entry.client.close()));
    },
  };
}
