import { ServiceError, wantsStream, type ModelCard } from "@imagegen/shared";
import type { Principal } from "../auth/authenticator.js";
import type { AdmissionGate, RateLimiter } from "../rate-limit.js";
import type { WebhookTargetCheck } from "../webhooks/webhook-target.js";
import type { ImageStore } from "@imagegen/storage";
import type { Response } from "express";
import { principalOf } from "../middleware/locals.js";
import { onResponseClosed } from "../middleware/response-closed.js";
import type { GenerationSubmission, SubmitOutcome, GenerationService } from "../generations/generation-service.js";
import type { Preferences } from "../generations/prefer.js";
import type { PartialRelay } from "../streaming/partial-relay.js";
import { streamImages, type StreamKind } from "../streaming/image-stream.js";
import type { GenerationJobs } from "../generations/jobs.js";
import { sendImages } from "../generations/render.js";

/** What POST /v1/images/generations and /v1/images/edits share around the generation service. */

export interface ImageRouteDeps {
  generations: GenerationService;
  /** Partial images of streaming requests, relayed from the workers. */
  relay: PartialRelay;
  jobs: GenerationJobs;
  store: ImageStore;
  rateLimiter: RateLimiter;
  urlTtlSeconds: number;
  /** Refuses webhook targets the workers would refuse (private addresses unless allowed). */
  checkWebhookTarget: WebhookTargetCheck;
}

/** How long past the model's deadline a concurrency slot stays leased if this process dies holding it. */
const SLOT_LEASE_MARGIN_MS = 10_000;

/**
 * The request's admission, for the service to call when it creates new
 * work (a replay is not charged): takes the workspace's and key's limits
 * for `images` images or throws the refusal; the rate-limit headers go on
 * the answer either way. The concurrency slot frees once the response is
 * over: sent, or the caller hung up (also while the check was out).
 */
function admission(res: Response, rateLimiter: RateLimiter, principal: Principal, images: number, card: ModelCard): (gate?: AdmissionGate) => Promise<void> {
  return async (gate) => {
    const admitted = await rateLimiter.admit(principal, { requestId: res.locals.requestId, images, leaseMs: card.timeout_ms + SLOT_LEASE_MARGIN_MS, gate });
    res.set(admitted.headers);
    if (!admitted.admitted) throw admitted.error;
    onResponseClosed(res, admitted.release);
  };
}

/**
 * `webhook_url` is ours, not a model parameter: take it out of the body
 * before the model's card checks the rest. It only makes sense for a job
 * that is polled, i.e. with `Prefer: respond-async`.
 */
export function takeWebhookUrl(body: unknown, respondAsync: boolean): { webhookUrl: string | undefined; body: unknown } {
  if (body === null || typeof body !== "object" || Array.isArray(body) || !Object.hasOwn(body, "webhook_url")) return { webhookUrl: undefined, body };
  const { webhook_url: webhookUrl, ...rest } = body as Record<string, unknown>;
  if (webhookUrl === undefined || webhookUrl === null) return { webhookUrl: undefined, body: rest };
  if (!respondAsync) throw new ServiceError("invalid_payload", "webhook_url needs the header 'Prefer: respond-async'.", { param: "webhook_url" });
  if (typeof webhookUrl !== "string" || !URL.canParse(webhookUrl) || !/^https?:$/.test(new URL(webhookUrl).protocol)) {
    throw new ServiceError("invalid_payload", "webhook_url must be an http(s) URL.", { param: "webhook_url" });
  }
  return { webhookUrl, body: rest };
}

/** Aborts when the caller hangs up before we answered. */
function clientGoneSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  onResponseClosed(res, () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Answers a submitted request: the images (200), or the job to poll (202,
 * at its one address whichever endpoint created it).
 */
export function createOutcomeRenderer(deps: { jobs: GenerationJobs; store: ImageStore; urlTtlSeconds: number }) {
  return async function render(res: Response, workspaceId: string, outcome: SubmitOutcome): Promise<void> {
    if (outcome.replayed) res.setHeader("idempotent-replayed", "true");
    if (outcome.status === "done") {
      return sendImages(res, outcome.result, outcome.responseFormat, deps.store, deps.urlTtlSeconds);
    }
    if (outcome.preferenceApplied) res.setHeader("preference-applied", outcome.preferenceApplied);
    const job = await deps.jobs.describe(await deps.jobs.find(outcome.jobId, workspaceId));
    res.status(202).location(`/v1/images/generations/${outcome.jobId}`).json(job);
  };
}

/** `stream: true` answers now, on this connection: a job to poll would have nobody to stream to. */
export function checkStreamPreferences(streaming: boolean, prefer: Preferences): void {
  if (streaming && prefer.respondAsync) {
    throw new ServiceError("invalid_payload", "stream: true cannot be combined with 'Prefer: respond-async'.", { param: "stream" });
  }
}

/** What a route knows of a request; the rest of the submission comes from the request's own context. */
export type RouteSubmission = Omit<GenerationSubmission, "workspaceId" | "requestId" | "admit" | "admissionChecksLimits" | "clientGone" | "log">;

/**
 * Submits the request, charged to the caller's workspace and key and
 * withdrawn if it hangs up: as OpenAI's event stream when it asked for one,
 * else answered by `render`.
 */
export async function submitAndAnswer(
  res: Response,
  deps: { generations: GenerationService; relay: PartialRelay; store: ImageStore; rateLimiter: RateLimiter },
  kind: StreamKind,
  parts: RouteSubmission,
  render: (res: Response, workspaceId: string, outcome: SubmitOutcome) => Promise<void>,
): Promise<void> {
  const principal = principalOf(res);
  const submission: GenerationSubmission = {
    ...parts,
    workspaceId: principal.workspaceId,
    requestId: res.locals.requestId,
    admit: admission(res, deps.rateLimiter, principal, parts.request.n, parts.card),
    admissionChecksLimits: deps.rateLimiter.appliesTo(principal),
    clientGone: clientGoneSignal(res),
    log: res.locals.log,
  };
  const { request } = submission;
  if (!wantsStream(request.options)) return render(res, submission.workspaceId, await deps.generations.submit(submission));
  // Streamed work runs as a plain synchronous call: withdrawn if the caller hangs up while it is queued.
  const streamed = { ...submission, prefer: { respondAsync: false, waitSeconds: undefined } };
  await streamImages(res, { relay: deps.relay, store: deps.store, log: submission.log }, { kind, jobId: submission.requestId, size: request.size, options: request.options }, () =>
    deps.generations.submit(streamed),
  );
}
