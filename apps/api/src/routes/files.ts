import { pipeline } from "node:stream/promises";
import { isPublicId, newId, ServiceError, toFileObject, type FileRecords, type Idempotency } from "@imagegen/shared";
import { batchFileKey, type FileStore, type ImageStore } from "@imagegen/storage";
import { Router } from "express";
import { streamRenderedResults } from "../batches/render-output.js";
import { spoolUpload } from "../files/upload.js";
import { principalOf } from "../middleware/locals.js";

export interface FilesDeps {
  files: FileRecords;
  fileStore: FileStore;
  imageStore: ImageStore;
  idempotency: Idempotency;
  maxFileBytes: number;
  uploadTmpDir: string;
  urlTtlSeconds: number;
}


/** OpenAI's Files API, for batch input and output files. */
export function filesRouter(deps: FilesDeps): Router {
  const router = Router();

  async function find(id: string, workspaceId: string) {
    const record = isPublicId(id, ["file"]) ? await deps.files.get(id, workspaceId) : undefined;
    if (!record) throw new ServiceError("not_found", `No such File object: ${id}`, { param: "id" });
    return record;
  }

  router.post("/v1/files", async (req, res) => {
    const principal = principalOf(res);
    const upload = await spoolUpload(req, { maxBytes: deps.maxFileBytes, tmpDir: deps.uploadTmpDir });
    try {
      if (upload.purpose !== "batch") {
        throw new ServiceError("invalid_payload", "purpose must be 'batch': this service accepts files for the Batch API only.", { param: "purpose" });
      }
      const id = newId("file");
      const idempotencyKey = req.header("idempotency-key");
      if (idempotencyKey !== undefined) {
        const { replayOf } = await deps.idempotency.claim(principal.workspaceId, idempotencyKey, upload.digest, id);
        if (replayOf) {
          res.setHeader("idempotent-replayed", "true");
          return void res.json(toFileObject(await find(replayOf, principal.workspaceId)));
        }
      }
      const key = batchFileKey(principal.workspaceId, id);
      await deps.fileStore.putFile(key, upload.path, "application/jsonl");
      const record = {
        id,
        workspace: principal.workspaceId,
        filename: upload.filename,
        purpose: "batch" as const,
        bytes: upload.bytes,
        created_at: Math.floor(Date.now() / 1000),
        storage_key: key,
        format: "jsonl" as const,
      };
      await deps.files.create(record);
      res.json(toFileObject(record));
    } finally {
      await upload.discard();
    }
  });

  router.get("/v1/files/:id", async (req, res) => {
    const principal = principalOf(res);
    res.json(toFileObject(await find(req.params.id, principal.workspaceId)));
  });

  router.get("/v1/files/:id/content", async (req, res) => {
    const principal = principalOf(res);
    const record = await find(req.params.id, principal.workspaceId);
    const content = await deps.fileStore.getStream(record.storage_key);
    res.setHeader("content-type", "application/jsonl");
    if (record.format === "jsonl") return void (await pipeline(content, res));
    // Batch results: rendered now, so image links are fresh for the downloader.
    await streamRenderedResults(content, res, deps.imageStore, deps.urlTtlSeconds);
    res.end();
  });

  router.delete("/v1/files/:id", async (req, res) => {
    const principal = principalOf(res);
    const record = await find(req.params.id, principal.workspaceId);
    await deps.files.delete(record.id);
    await deps.fileStore.delete(record.storage_key);
    res.json({ id: record.id, object: "file", deleted: true });
  });

  return router;
}
