import type { BatchObjectWire } from "@imagegen/shared/public-api";
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client.js";
import { ErrorMessage } from "../components/error-message.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatTime } from "../format.js";
import { useLoad } from "../use-load.js";

const ACTIVE = new Set(["validating", "in_progress", "finalizing", "cancelling"]);

/** Batches: list with progress, upload a JSONL file to start one, download results, cancel. */
export function BatchesPage(props: { client: ApiClient }) {
  const batches = useLoad(() => props.client.batches(), { pollMs: 1000, poll: (list) => list.data.some((batch) => ACTIVE.has(batch.status)) });
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const upload = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget instanceof HTMLFormElement ? event.currentTarget : null;
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      await props.client.createBatch(file);
      form?.reset();
      setFile(null);
      batches.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (id: string) => {
    try {
      await props.client.cancelBatch(id);
      batches.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section>
      <h1>Batches</h1>
      <form class="card upload" onSubmit={upload}>
        <h2>New batch</h2>
        <p class="muted">
          A JSONL file, one request per line: <code>{'{"custom_id": "fox-1", "method": "POST", "url": "/v1/images/generations", "body": {"model": "…", "prompt": "a fox"}}'}</code>
        </p>
        <div class="field">
          <label for="batch-file">JSONL file</label>
          <input id="batch-file" type="file" accept=".jsonl,application/jsonl,application/x-ndjson,text/plain" required onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)} />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" class="button primary" disabled={busy || !file}>
          Upload and start batch
        </button>
      </form>
      <ErrorMessage error={batches.error} />
      {batches.data ? (
        batches.data.data.length === 0 ? (
          <p>No batches yet.</p>
        ) : (
          <ul class="batch-list">
            {batches.data.data.map((batch) => (
              <BatchRow key={batch.id} batch={batch} onCancel={() => cancel(batch.id)} />
            ))}
          </ul>
        )
      ) : batches.error ? null : (
        <p class="loading">Loading batches…</p>
      )}
    </section>
  );
}

function BatchRow(props: { batch: BatchObjectWire; onCancel: () => void }) {
  const { batch } = props;
  const { total, completed, failed } = batch.request_counts;
  const progressId = `progress-${batch.id}`;
  return (
    <li class="card batch" aria-label={`Batch ${batch.id}`}>
      <div class="batch-head">
        <code>{batch.id}</code> <StatusBadge status={batch.status} />
        <span class="muted">created {formatTime(batch.created_at)}</span>
      </div>
      <label for={progressId}>
        Progress: {completed} completed, {failed} failed of {total}
      </label>
      <progress id={progressId} max={Math.max(total, 1)} value={completed + failed} />
      {batch.errors?.data.length ? (
        <ul class="error-list">
          {batch.errors.data.slice(0, 5).map((entry, index) => (
            <li key={index} class="error">
              {entry.line ? `Line ${entry.line}: ` : ""}
              {entry.message}
            </li>
          ))}
        </ul>
      ) : null}
      <div class="actions">
        {batch.output_file_id ? (
          <a class="button small" href={`/v1/files/${encodeURIComponent(batch.output_file_id)}/content`} download={`${batch.id}-output.jsonl`}>
            Download output of {batch.id}
          </a>
        ) : null}
        {batch.error_file_id ? (
          <a class="button small" href={`/v1/files/${encodeURIComponent(batch.error_file_id)}/content`} download={`${batch.id}-errors.jsonl`}>
            Download errors of {batch.id}
          </a>
        ) : null}
        {ACTIVE.has(batch.status) && batch.status !== "cancelling" ? (
          <button type="button" class="button small" onClick={props.onCancel}>
            Cancel batch {batch.id}
          </button>
        ) : null}
      </div>
    </li>
  );
}
