import type { ApiClient } from "../api/client.js";
import { useState } from "preact/hooks";
import { ErrorMessage } from "../components/error-message.js";
import { Link } from "../components/link.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatDuration, formatTime, imageSource } from "../format.js";
import { useLoad } from "../use-load.js";

/** One job: what was asked, how it went, its images; cancel while it has not ended. */
export function JobPage(props: { client: ApiClient; id: string }) {
  const job = useLoad(() => props.client.job(props.id), { key: props.id, pollMs: 1000, poll: (data) => data.status === "queued" || data.status === "in_progress" });
  const [cancelError, setCancelError] = useState<unknown>(null);
  const data = job.data;
  const cancel = async () => {
    try {
      await props.client.cancelJob(props.id);
      job.reload();
    } catch (failure) {
      setCancelError(failure);
    }
  };
  return (
    <section>
      <p>
        <Link to="/jobs">← All jobs</Link>
      </p>
      <h1>
        Job <code>{props.id}</code>
      </h1>
      <ErrorMessage error={job.error} />
      {data ? (
        <div class="card">
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={data.status} />
              {data.queue_position !== undefined ? ` · position in queue: ${data.queue_position}` : ""}
            </dd>
            <dt>Model</dt>
            <dd>
              <code>{data.model}</code>
            </dd>
            {data.prompt !== undefined ? (
              <>
                <dt>Prompt</dt>
                <dd>{data.prompt}</dd>
              </>
            ) : null}
            <dt>Created</dt>
            <dd>{formatTime(data.created_at)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(data.created_at, data.completed_at)}</dd>
          </dl>
          {data.error ? (
            <p class="error" role="alert">
              {data.error.message}
            </p>
          ) : null}
          {data.status === "queued" || data.status === "in_progress" ? (
            <button type="button" class="button" onClick={cancel}>
              Cancel job
            </button>
          ) : null}
          <ErrorMessage error={cancelError} />
          <ul class="images">
            {(data.data ?? []).map((image, index) => {
              const source = imageSource(image);
              return source ? (
                <li key={index}>
                  <img src={source} alt={`Image ${index + 1} of job ${data.id}`} />
                  <a href={source} download={`${data.id}-${index + 1}.png`} class="button small">
                    Download image {index + 1}
                  </a>
                </li>
              ) : null;
            })}
          </ul>
        </div>
      ) : job.error ? null : (
        <p class="loading">Loading…</p>
      )}
    </section>
  );
}
