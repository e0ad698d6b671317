import {
  fromFailure,
  isPublicId,
  ServiceError,
  toErrorBody,
  toGenerationJobObject,
  type GenerationJobObject,
  type GenerationRecord,
  type GenerationHistory,
  type GenerationRecords,
  type FairShare,
  type WebhookEmitter,
} from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import type { Queue } from "bullmq";
import type { RedisClient } from "@imagegen/shared";
import { summaryRecord } from "./job-list.js";
import type { GenerationJobQueue } from "./job-queue.js";
import { queuePosition } from "./queue-position.js";
import { renderImages } from "./render.js";

/**
 * Generations callers poll by id: async jobs, `Prefer: wait` calls that ran
 * out of patience, and idempotent retries. Reads go through the record; a
 * job of another workspace is simply not found.
 */
export function createGenerationJobs(deps: {
  records: GenerationRecords;
  queue: Queue;
  fairShare: Pick<FairShare, "position">;
  /** Takes a queued job back (out of its lane, then off the queue). */
  withdraw: GenerationJobQueue["withdraw"];
  redis: RedisClient;
  store: ImageStore;
  webhooks: WebhookEmitter;
  urlTtlSeconds: number;
  /** Where plain synchronous calls are remembered (they have no record of their own). */
  history?: Pick<GenerationHistory, "get">;
}) {
  async function find(id: string, workspaceId: string): Promise<GenerationRecord> {
    const valid = isPublicId(id, ["gen", "req"]);
    let record = valid ? await deps.records.get(id) : undefined;
    if (!record && valid && deps.history) {
      const summary = await deps.history.get(workspaceId, id);
      if (summary) record = summaryRecord(summary);
    }
    if (!record || record.workspace !== workspaceId) {
      throw new ServiceError("not_found", `No image generation job with id '${id}'.`, { param: "id" });
    }
    return record;
  }

  /** The job as the API shows it: position while queued, images or error once ended. */
  async function describe(record: GenerationRecord): Promise<GenerationJobObject> {
    if (record.status === "queued") {
      return toGenerationJobObject(record, { queuePosition: await queuePosition(deps, record) });
    }
    if (record.status === "succeeded" && record.result) {
      return toGenerationJobObject(record, {
        response: await renderImages(record.result, record.response_format, deps.store, deps.urlTtlSeconds),
      });
    }
    if (record.status === "failed" && record.error) {
      return toGenerationJobObject(record, { error: toErrorBody(fromFailure(record.error)).error });
    }
    return toGenerationJobObject(record, {});
  }

  return {
    find,
    describe,
    /** Cancels a job that has not ended; a job that has ended is returned as it is. */
    async cancel(id: string, workspaceId: string): Promise<GenerationJobObject> {
      await find(id, workspaceId);
      const outcome = await deps.records.cancel(id);
      if (outcome?.applied) {
        // Not started: take it out of the queue. Started: it runs to its
        // end, and the worker leaves the cancelled record as it is.
        if (outcome.previous === "queued") await deps.withdraw({ requestId: id, workspaceId }).catch(() => undefined);
        await deps.webhooks.generationEnded(id, "image.generation.cancelled");
      }
      return describe(await find(id, workspaceId));
    },
  };
}
export type GenerationJobs = ReturnType<typeof createGenerationJobs>;
