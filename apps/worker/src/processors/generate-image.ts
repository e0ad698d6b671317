import {
  generateImagePayloadSchema,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
  type Logger,
  type ModelCatalog,
  type StoredImage,
} from "@imagegen/shared";
import { imageObjectKey, type ImageStore } from "@imagegen/storage";
import { DelayedError, type Job } from "bullmq";
import { z } from "zod";
import type { WorkerMetrics } from "../metrics.js";
import { NoHealthyUpstreamError } from "../upstreams/pool.js";
import type { UpstreamRouter } from "../upstreams/router.js";
import { putDurably } from "../storage/durable-put.js";
import { loadEditInputs } from "../images/edit-inputs.js";
import { partialsFor, type PartialPublisher } from "../streaming/partials.js";
import { finishImages } from "../images/finish-images.js";
import { JobFailure } from "./job-failure.js";

export interface GenerateImageDeps {
  catalog: ModelCatalog;
  router: UpstreamRouter;
  store: ImageStore;
  metrics: WorkerMetrics;
  log: Logger;
  /** Relays a streaming job's partial images to the API (Redis pub/sub). */
  partials?: PartialPublisher;
  /** Longest total wait of queued work for an upstream to recover (UPSTREAM_RECOVERY_WAIT_MS). */
  recoveryWaitMs?: number;
}

/** Job data field (outside the queue contract, which ignores it) holding when the job first waited for recovery. */
const WAIT_SINCE_FIELD = "upstreamWaitSinceMs";
const waitingSinceSchema = z.object({ [WAIT_SINCE_FIELD]: z.number() });

/** Shortest wait before a deferred job looks again, so a flapping pool cannot spin jobs through Redis. */
const MIN_DEFER_MS = 500;

/**
 * Stores every image or none: when one write fails, the ones already
 * written are deleted, so a failed request leaves no unreferenced objects.
 */
async function storeImages(
  deps: GenerateImageDeps,
  payload: GenerateImagePayload,
  createdAt: Date,
  images: Awaited<ReturnType<UpstreamRouter["generate"]>>["images"],
): Promise<StoredImage[]> {
  const written: string[] = [];
  const results = await Promise.allSettled(
    images.map(async (image, index) => {
      const key = imageObjectKey({
        workspaceId: payload.workspaceId,
        requestId: payload.requestId,
        index,
        createdAt,
        contentType: image.contentType,
      });
      const stopTimer = deps.metrics.storageWriteSeconds.startTimer({ driver: deps.store.driver });
      try {
        await putDurably(deps.store, key, image.bytes, image.contentType, { deadlineAt: payload.deadlineAt, log: deps.log });
        written.push(key);
        stopTimer({ outcome: "ok" });
      } catch (error) {
        stopTimer({ outcome: "error" });
        throw new ServiceError("service_unavailable", "Image storage is unavailable. Retry with backoff.", { cause: error });
      }
      return {
        key,
        contentType: image.contentType,
        byteLength: image.bytes.length,
        ...(image.revisedPrompt === undefined ? {} : { revisedPrompt: image.revisedPrompt }),
      };
    }),
  );
  const stored = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = results.find((result) => result.status === "rejected");
  if (failed === undefined) return stored;
  await Promise.all(
    written.map((key) => deps.store.delete(key).catch((error: unknown) => deps.log.error({ err: error, key }, "could not delete the image of a failed request"))),
  );
  throw failed.reason;
}

/**
 * Every upstream of the model is out. A caller holding a connection gets
 * 503 at once; queued work goes back to the queue until the first upstream
 * may be back (bounded by its deadline), without spending an attempt.
 */
async function deferOrFail(job: Job, token: string | undefined, payload: GenerateImagePayload, error: NoHealthyUpstreamError, deps: GenerateImageDeps, log: Logger): Promise<never> {
  const retryAtMs = Math.max(error.retryAtMs, Date.now() + MIN_DEFER_MS);
  const retryAfterSeconds = Math.max(1, Math.ceil((retryAtMs - Date.now()) / 1000));
  const waiting = waitingSinceSchema.safeParse(job.data);
  const since = waiting.success ? waiting.data[WAIT_SINCE_FIELD] : Date.now();
  const waitUntilMs = Math.min(payload.deadlineAt, since + (deps.recoveryWaitMs ?? 0));
  if (payload.kind !== "sync" && token !== undefined && retryAtMs < waitUntilMs) {
    if (!waiting.success) await job.updateData({ ...job.data, [WAIT_SINCE_FIELD]: since });
    await job.moveToDelayed(retryAtMs, token);
    deps.metrics.jobsDeferred.inc({ model: payload.model });
    log.info({ retryAtMs }, "no healthy upstream; job waits for recovery");
    throw new DelayedError();
  }
  throw new ServiceError("upstream_unavailable", undefined, { retryAfterSeconds, cause: error });
}

async function run(job: Job, token: string | undefined, payload: GenerateImagePayload, deps: GenerateImageDeps, log: Logger): Promise<GenerateImageResult> {
  if (Date.now() >= payload.deadlineAt) {
    throw new ServiceError("upstream_timeout", "The request expired while waiting in the queue.");
  }
  const card = deps.catalog.get(payload.model);
  if (!card) {
    // The API and this worker read different model libraries: a deployment fault.
    throw new ServiceError("model_not_found", `The model '${payload.model}' is not served by this deployment.`, { param: "model" });
  }
  const partials = partialsFor(payload, deps.partials, log);
  const outcome = await deps.router
    .generate(
      card,
      {
        prompt: payload.prompt,
        n: payload.n,
        size: payload.size,
        parameters: payload.parameters,
        options: payload.options,
        edit: await loadEditInputs(deps.store, payload.edit),
        partials,
      },
      payload.deadlineAt,
      log,
    )
    .catch((error: unknown) => (error instanceof NoHealthyUpstreamError ? deferOrFail(job, token, payload, error, deps, log) : Promise.reject(error)));
  if (outcome.images.length < payload.n) {
    throw new ServiceError("upstream_invalid_response", `The model returned ${outcome.images.length} of ${payload.n} images.`);
  }
  await partials?.drain();
  const finished = await finishImages(outcome.images.slice(0, payload.n), payload.options, payload.size, (format, seconds) =>
    deps.metrics.transcodeSeconds.observe({ format }, seconds),
  );
  // The job's own timestamp keeps the object keys stable across re-runs.
  const images = await storeImages(deps, payload, new Date(job.timestamp), finished.images);
  deps.metrics.imagesGenerated.inc({ model: payload.model }, images.length);
  return { created: Math.floor(Date.now() / 1000), upstream: outcome.upstream, images, response: finished.response };
}

/** What the generate-image work needs once its job's payload has been read. */
export type GenerateImage = (job: Job, payload: GenerateImagePayload, token?: string) => Promise<GenerateImageResult>;

/**
 * Reads a generate-image job's payload against the queue contract, once per
 * run; whatever does not match is our own fault (a plain 500 to the caller).
 */
export function parseGenerateImageJob(job: Job, log: Logger): GenerateImagePayload {
  const parsed = generateImagePayloadSchema.safeParse(job.data);
  if (!parsed.success) {
    log.error({ jobId: job.id, issues: parsed.error.issues }, "job payload does not match the queue contract");
    throw new JobFailure(new ServiceError("internal_error"));
  }
  return parsed.data;
}

/**
 * Turns one queued request, its payload already read, into stored images.
 * Every failure leaves as a JobFailure carrying its public meaning: the
 * upstream client has already retried what was worth retrying, and a
 * crashed worker is covered by BullMQ's stalled-job recovery, so job-level
 * retries would only multiply attempts.
 */
export function createGenerateImage(deps: GenerateImageDeps): GenerateImage {
  return async function generateImage(job, payload, token) {
    const log = deps.log.child({ requestId: payload.requestId, jobId: job.id, workspace: payload.workspaceId, model: payload.model });
    deps.metrics.queueWaitSeconds.observe({ kind: payload.kind }, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
    const stopTimer = deps.metrics.generationSeconds.startTimer({ model: payload.model });
    try {
      // job.token too: a wrapping processor may not pass the lock token on.
      const result = await run(job, token ?? job.token, payload, deps, log);
      stopTimer({ outcome: "ok" });
      deps.metrics.generations.inc({ model: payload.model, outcome: "ok", code: "" });
      log.info({ upstream: result.upstream, images: result.images.length }, "generation completed");
      return result;
    } catch (error) {
      // Back to the queue, not a failure: BullMQ reschedules it without counting an attempt.
      if (error instanceof DelayedError) throw error;
      const failure = error instanceof ServiceError ? error : new ServiceError("internal_error", undefined, { cause: error });
      stopTimer({ outcome: "error" });
      deps.metrics.generations.inc({ model: payload.model, outcome: "error", code: failure.code });
      if (failure.code === "internal_error" || failure.code === "service_unavailable") {
        log.error({ err: error }, "generation failed");
      } else {
        log.warn({ code: failure.code, reason: failure.message }, "generation failed");
      }
      throw new JobFailure(failure);
    }
  };
}

/** The whole processor for a job nobody records an outcome of: read the payload, generate. */
export function createGenerateImageProcessor(deps: GenerateImageDeps) {
  const generate = createGenerateImage(deps);
  return async (job: Job, token?: string): Promise<GenerateImageResult> => generate(job, parseGenerateImageJob(job, deps.log), token);
}
