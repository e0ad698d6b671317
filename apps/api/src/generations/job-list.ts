import { toGenerationJobObject, toErrorBody, fromFailure, type GenerationHistory, type GenerationRecord, type GenerationRecords, type GenerationSummary } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import { listPage } from "../routes/list-query.js";
import { renderImages } from "./render.js";

/** A summary as a record, for the one describer of jobs (a plain synchronous call has nothing else). */
export function summaryRecord(summary: GenerationSummary): GenerationRecord {
  return {
    id: summary.id,
    workspace: summary.workspace,
    model: summary.model,
    status: summary.status,
    response_format: summary.response_format,
    created_at: summary.created_at,
    completed_at: summary.completed_at,
    result: summary.result,
    error: summary.error,
  };
}

/**
 * `GET /v1/images/generations`: the workspace's recent generations, newest
 * first, in OpenAI's list shape with cursor pagination. Polled jobs show
 * their record's live status; every listed image is a signed link (also for
 * `b64_json` jobs: a listing never carries image bytes).
 */
export function createJobList(deps: { history: GenerationHistory; records: Pick<GenerationRecords, "get">; store: ImageStore; urlTtlSeconds: number }) {
  async function listed(summary: GenerationSummary) {
    const live = summary.retained ? await deps.records.get(summary.id) : undefined;
    const record = live ?? summaryRecord(summary);
    const ended =
      record.status === "succeeded" && record.result
        ? { response: await renderImages(record.result, "url", deps.store, deps.urlTtlSeconds) }
        : record.status === "failed" && record.error
          ? { error: toErrorBody(fromFailure(record.error)).error }
          : {};
    return { ...toGenerationJobObject(record, ended), prompt: summary.prompt, size: summary.size, n: summary.n, kind: summary.kind };
  }

  return {
    /** A job as GET /v1/images/generations/{id} shows it, with what was asked when the history still has it. */
    async withRequest<T extends { id: string }>(job: T, workspaceId: string) {
      const summary = await deps.history.get(workspaceId, job.id);
      return summary ? { ...job, prompt: summary.prompt, size: summary.size, n: summary.n, kind: summary.kind } : job;
    },

    async list(workspaceId: string, page: { limit: number; after?: string | undefined }) {
      const { summaries, hasMore } = await deps.history.page(workspaceId, page);
      return listPage(await Promise.all(summaries.map(listed)), hasMore);
    },
  };
}
export type JobList = ReturnType<typeof createJobList>;
