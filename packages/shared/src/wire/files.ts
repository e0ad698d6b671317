import type { FileRecord } from "../records/file-records.js";

/** OpenAI's file object. */
export function toFileObject(record: FileRecord) {
  return {
    id: record.id,
    object: "file" as const,
    bytes: record.bytes,
    created_at: record.created_at,
    filename: record.filename,
    purpose: record.purpose,
    status: "processed" as const,
    status_details: null,
  };
}
export type FileObject = ReturnType<typeof toFileObject>;
