import { ServiceError, toFailure, type GenerateImageResult, type GenerationHistory, type GenerationSummary, type ImageGenerationRequest, type Logger } from "@imagegen/shared";

/** What the history needs of an accepted request. */
export interface HistoryEntry {
  workspaceId: string;
  /** The HTTP request's id: a plain synchronous call's job id. */
  requestId: string;
  request: ImageGenerationRequest;
  log: Logger;
}


/**
 * Writes each generation's summary into its workspace's history (the list
 * `GET /v1/images/generations` reads) and counts its images for the day's
 * usage. A plain synchronous call costs one script call, sent after its
 * outcome is known and not awaited: the caller's answer never waits on it,
 * and a failure to record is logged, never the caller's problem.
 */
export function createHistoryRecorder(deps: { history: GenerationHistory; log: Logger }) {
  function summaryOf(submission: HistoryEntry, fields: Pick<GenerationSummary, "id" | "kind" | "retained" | "status" | "created_at">): GenerationSummary {
    const { request } = submission;
    return { ...fields, workspace: submission.workspaceId, model: request.model, prompt: request.prompt, size: request.size, n: request.n, response_format: request.responseFormat };
  }

  return {
    /** A plain synchronous call ended (images, or the error its caller got). */
    syncEnded(submission: HistoryEntry, createdAtMs: number, outcome: { result: GenerateImageResult } | { error: unknown }): void {
      const ended = summaryOf(submission, {
        id: submission.requestId,
        kind: "sync",
        retained: false,
        status: "result" in outcome ? "succeeded" : "failed",
        created_at: Math.floor(createdAtMs / 1000),
      });
      const failure = "error" in outcome ? toFailure(outcome.error instanceof ServiceError ? outcome.error : new ServiceError("internal_error")) : undefined;
      const summary: GenerationSummary = { ...ended, completed_at: Math.floor(Date.now() / 1000), ...("result" in outcome ? { result: outcome.result } : { error: failure }) };
      // After the answer has gone out: the caller never waits on the history.
      setImmediate(() => {
        deps.history.record(summary, { createdAtMs, countImages: true }).catch((error: unknown) => submission.log.warn({ err: error }, "could not record a generation in its workspace's history"));
      });
    },

    /** Polled work was accepted: listed at once; its record carries the live status. */
    async retainedAccepted(submission: HistoryEntry, jobId: string, kind: "sync" | "async"): Promise<void> {
      const createdAtMs = Date.now();
      const summary = summaryOf(submission, { id: jobId, kind, retained: true, status: "queued", created_at: Math.floor(createdAtMs / 1000) });
      await deps.history.record(summary, { createdAtMs, countImages: true });
    },
  };
}
export type HistoryRecorder = ReturnType<typeof createHistoryRecorder>;
