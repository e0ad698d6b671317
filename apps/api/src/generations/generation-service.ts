import {
  failureToError,
  fromFailure,
  generateImageResultSchema,
  lazyChildLogger,
  newId,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
  type GenerationRecord,
  type GenerationRecords,
  type Idempotency,
  type ImageGenerationRequest,
  type Logger,
  type ModelCard,
  type ResponseFormat,
} from "@imagegen/shared";
import type { AdmissionGate } from "../rate-limit.js";
import type { CompletionHub, JobOutcome } from "./completion-hub.js";
import type { GenerationJobQueue, QueuedJobRef } from "./job-queue.js";
import type { HistoryRecorder } from "./history-recorder.js";
import type { Preferences } from "./prefer.js";

/** One accepted `POST /v1/images/generations` or `/v1/images/edits`, after validation and admission. */
export interface GenerationSubmission {
  workspaceId: string;
  /** The HTTP request's id: a plain synchronous call's job id. */
  requestId: string;
  request: ImageGenerationRequest;
  card: ModelCard;
  prefer: Preferences;
  idempotencyKey: string | undefined;
  /** The body as the caller sent it: an Idempotency-Key replays only the same body. */
  idempotencyBody: string;
  webhookUrl: string | undefined;
  /**
   * Charges the request against the rate limits; throws 429 when refused.
   * Called only for new work: a replay of an Idempotency-Key creates none
   * and is not charged. With a `gate`, the check is on its way to Redis
   * when this returns and a refusal also sets the gate.
   */
  admit: (gate?: AdmissionGate) => Promise<void>;
  /** Whether `admit` checks any limit; with none it answers at once, and there is no round trip to share. */
  admissionChecksLimits: boolean;
  /**
   * For an edit: puts its inputs into storage under the job's id, once the
   * request is admitted (a refused or replayed edit stores nothing).
   */
  storeInputs?: (jobId: string) => Promise<NonNullable<GenerateImagePayload["edit"]>>;
  /** Aborts when the caller hangs up. */
  clientGone: AbortSignal;
  log: Logger;
}

/**
 * What to answer: the images (200), or the job to poll (202) when the caller
 * asked not to wait, or stopped waiting before the work ended.
 */
export type SubmitOutcome =
  | { status: "done"; result: GenerateImageResult; responseFormat: ResponseFormat; replayed: boolean }
  | { status: "pending"; jobId: string; replayed: boolean; preferenceApplied: string | undefined };

export interface GenerationService {
  /**
   * Decides how the request runs: a plain synchronous call (nothing kept
   * but the BullMQ job), retained work that callers may poll (async,
   * `Prefer: wait`, Idempotency-Key), or a replay of earlier work with the
   * same Idempotency-Key. Throws a ServiceError on failure.
   */
  submit(submission: GenerationSubmission): Promise<SubmitOutcome>;
}

export interface GenerationServiceDeps {
  queue: GenerationJobQueue;
  hub: CompletionHub;
  records: Pick<GenerationRecords, "create" | "get">;
  idempotency: Pick<Idempotency, "claim" | "release">;
  /** A retained job of this workspace, or not_found. */
  findJob(id: string, workspaceId: string): Promise<GenerationRecord>;
  /** How long an async job may wait in the queue before it expires. */
  asyncJobTtlMs: number;
  /** Lists every generation in its workspace's history (GET /v1/images/generations). */
  history?: HistoryRecorder;
}

/** How long a replay waits for the job of a key claimed a moment ago: 40 × 50 ms. */
const CLAIMED_JOB_ATTEMPTS = 40;
const CLAIMED_JOB_POLL_MS = 50;

/** Time past the job's deadline we keep waiting, for the worker's own reply to arrive. */
const DEADLINE_GRACE_MS = 2000;

/** The gate a plain synchronous call's add goes behind, and its admission, already sent. */
interface GatedAdmission {
  gate: AdmissionGate;
  admitted: Promise<void>;
}

/**
 * An admission that refused or failed, on its way out of the synchronous
 * path: the request never became work, so it leaves no history.
 */
class NotAdmitted extends Error {
  constructor(readonly reason: unknown) {
    super("not admitted");
  }
}

function parseResult(value: unknown): GenerateImageResult {
  const parsed = generateImageResultSchema.safeParse(value);
  if (!parsed.success) throw new ServiceError("internal_error", "The worker returned a result this API cannot read.");
  return parsed.data;
}

export function createGenerationService(deps: GenerationServiceDeps): GenerationService {
  async function enqueue(payload: GenerateImagePayload, log: Logger, gate?: AdmissionGate): Promise<{ added: boolean }> {
    try {
      return await deps.queue.enqueue(payload, gate);
    } catch (error) {
      log.error({ err: error }, "could not enqueue generation");
      throw new ServiceError("service_unavailable", "The job queue is unavailable. Retry with backoff.", { cause: error });
    }
  }

  /**
   * Listens for the job's end, then enqueues it (in that order, so a quick
   * end is not missed), and waits at most `waitMs`. `gated`: the request's
   * admission is already on its way, and the add goes right behind it
   * without waiting for its answer; a refusal or a failed check is thrown
   * as NotAdmitted, and a job the add slipped in regardless is withdrawn.
   */
  async function enqueueAndWait(payload: GenerateImagePayload, waitMs: number, clientGone: AbortSignal, log: Logger, gated?: GatedAdmission): Promise<JobOutcome> {
    const enqueueFailed = new AbortController();
    const outcome = deps.hub.wait(payload.requestId, waitMs, AbortSignal.any([clientGone, enqueueFailed.signal]));
    const [admission, enqueued] = await Promise.allSettled([gated?.admitted, enqueue(payload, log, gated?.gate)]);
    if (admission.status === "fulfilled" && enqueued.status === "fulfilled") return outcome;
    enqueueFailed.abort();
    await outcome;
    if (admission.status === "fulfilled") throw (enqueued as PromiseRejectedResult).reason;
    if (enqueued.status === "fulfilled" && enqueued.value.added) await withdraw(payload, log);
    throw new NotAdmitted(admission.reason);
  }

  /** The retained outcome: the record is the last word whatever the events said. */
  async function retainedOutcome(jobId: string): Promise<GenerateImageResult | undefined> {
    const record = await deps.records.get(jobId);
    if (record?.status === "succeeded" && record.result) return record.result;
    if (record?.status === "failed" && record.error) throw fromFailure(record.error);
    if (record?.status === "cancelled") throw new ServiceError("not_found", "This image generation job was cancelled.");
    return undefined;
  }

  /** Nobody will collect the result: take the job back if no worker has it yet. */
  async function withdraw(job: QueuedJobRef, log: Logger): Promise<void> {
    try {
      await deps.queue.withdraw(job);
    } catch (error) {
      log.debug({ err: error }, "could not withdraw job (already running or finished)");
    }
  }

  /** A plain synchronous call: enqueue, wait until the deadline, withdraw the job if nobody will collect it. */
  async function runSync(payload: GenerateImagePayload, clientGone: AbortSignal, log: Logger, gated: GatedAdmission | undefined): Promise<GenerateImageResult> {
    const waitMs = Math.max(0, payload.deadlineAt - Date.now()) + DEADLINE_GRACE_MS;
    const result = await enqueueAndWait(payload, waitMs, clientGone, log, gated);
    switch (result.status) {
      case "completed":
        return parseResult(result.returnValue);
      case "failed":
        throw failureToError(result.failedReason);
      case "abandoned":
        await withdraw(payload, log);
        throw new ServiceError("internal_error", "The client closed the connection.");
      case "timed_out": {
        // The end event may have been missed (e.g. while reconnecting to
        // Redis): the job's own state is the last word.
        const settled = await deps.queue.settled(payload.requestId).catch(() => undefined);
        if (settled?.state === "completed") return parseResult(settled.returnValue);
        if (settled?.state === "failed") throw failureToError(settled.failedReason);
        await withdraw(payload, log);
        throw new ServiceError("upstream_timeout");
      }
    }
  }

  /** Waits at most `waitMs` for retained work enqueued earlier (an idempotent retry). */
  async function awaitRetained(jobId: string, waitMs: number, clientGone: AbortSignal): Promise<GenerateImageResult | undefined> {
    // Listen first, then look: an end between the two is not missed.
    const stopListening = new AbortController();
    const outcome = deps.hub.wait(jobId, waitMs, AbortSignal.any([clientGone, stopListening.signal]));
    const already = await retainedOutcome(jobId).catch((error: unknown) => {
      stopListening.abort();
      throw error;
    });
    if (already) {
      stopListening.abort();
      await outcome;
      return already;
    }
    await outcome;
    return retainedOutcome(jobId);
  }

  /**
   * The first request claims its key, is then admitted and records its job:
   * a replay arriving in between waits briefly for the record to appear.
   */
  async function findClaimedJob(jobId: string, workspaceId: string): Promise<GenerationRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.findJob(jobId, workspaceId);
      } catch (error) {
        if (!(error instanceof ServiceError) || error.code !== "not_found" || attempt >= CLAIMED_JOB_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, CLAIMED_JOB_POLL_MS));
      }
    }
  }

  /** The same request again: answer with the work the first one created. */
  async function replay(submission: GenerationSubmission, jobId: string): Promise<SubmitOutcome> {
    const { prefer, card } = submission;
    const record = await findClaimedJob(jobId, submission.workspaceId);
    const pending: SubmitOutcome = { status: "pending", jobId, replayed: true, preferenceApplied: undefined };
    if (prefer.respondAsync) return pending;
    const waitMs = Math.max(0, prefer.waitSeconds !== undefined ? prefer.waitSeconds * 1000 : card.timeout_ms);
    const result = await awaitRetained(jobId, waitMs, submission.clientGone);
    return result ? { status: "done", result, responseFormat: record.response_format, replayed: true } : pending;
  }

  return {
    async submit(submission) {
      const { prefer, request, card, log } = submission;
      const retain = prefer.respondAsync || prefer.waitSeconds !== undefined || submission.idempotencyKey !== undefined;
      const kind = prefer.respondAsync ? "async" : "sync";
      const jobId = kind === "async" ? newId("gen") : submission.requestId;

      const idempotencyKey = submission.idempotencyKey;
      if (idempotencyKey !== undefined) {
        const { replayOf } = await deps.idempotency.claim(submission.workspaceId, idempotencyKey, submission.idempotencyBody, jobId);
        if (replayOf) return replay(submission, replayOf);
      }
      // A plain synchronous call's admission and add share one round trip
      // when the queue offers a gate: nothing between them needs the answer.
      const gate = !retain && submission.admissionChecksLimits && submission.storeInputs === undefined ? deps.queue.admissionGate?.(jobId) : undefined;
      const gated = gate && { gate, admitted: submission.admit(gate) };
      let edit: GenerateImagePayload["edit"];
      if (!gated) {
        try {
          await submission.admit();
          edit = await submission.storeInputs?.(jobId);
        } catch (error) {
          // Refused (or unstorable) work must not leave its key claimed: the retry is the first real request.
          if (idempotencyKey !== undefined) await deps.idempotency.release(submission.workspaceId, idempotencyKey, jobId).catch(() => {});
          throw error;
        }
      }

      const payload: GenerateImagePayload = {
        requestId: jobId,
        workspaceId: submission.workspaceId,
        kind,
        model: request.model,
        prompt: request.prompt,
        n: request.n,
        size: request.size,
        responseFormat: request.responseFormat,
        parameters: request.parameters,
        options: request.options,
        ...(edit === undefined ? {} : { edit }),
        deadlineAt: Date.now() + (kind === "async" ? deps.asyncJobTtlMs : card.timeout_ms),
        ...(retain ? { retain: true } : {}),
      };
      const jobLog = lazyChildLogger(log, { model: request.model, jobId }).log;
      if (!retain) {
        const createdAtMs = Date.now();
        let result: GenerateImageResult;
        try {
          result = await runSync(payload, submission.clientGone, jobLog, gated);
        } catch (error) {
          if (error instanceof NotAdmitted) throw error.reason;
          deps.history?.syncEnded(submission, createdAtMs, { error });
          throw error;
        }
        deps.history?.syncEnded(submission, createdAtMs, { result });
        return { status: "done", result, responseFormat: request.responseFormat, replayed: false };
      }

      await Promise.all([
        deps.records.create({
          id: jobId,
          workspace: submission.workspaceId,
          model: request.model,
          responseFormat: request.responseFormat,
          webhookUrl: submission.webhookUrl,
        }),
        deps.history?.retainedAccepted(submission, jobId, kind),
      ]);
      // Retained work is never withdrawn: someone may poll it.
      const waitMs = kind === "async" ? 0 : Math.min(card.timeout_ms, (prefer.waitSeconds ?? Infinity) * 1000);
      await enqueueAndWait(payload, waitMs, submission.clientGone, jobLog);
      const result = await retainedOutcome(jobId);
      if (result && kind === "sync") return { status: "done", result, responseFormat: request.responseFormat, replayed: false };
      const preferenceApplied = prefer.respondAsync ? "respond-async" : prefer.waitSeconds !== undefined ? `wait=${prefer.waitSeconds}` : undefined;
      return { status: "pending", jobId, replayed: false, preferenceApplied };
    },
  };
}
