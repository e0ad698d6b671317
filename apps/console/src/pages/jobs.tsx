import type { GenerationJobList } from "@imagegen/shared/public-api";
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client.js";
import { ErrorMessage } from "../components/error-message.js";
import { Link } from "../components/link.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatDuration, formatTime, imageSource } from "../format.js";
import { useLoad } from "../use-load.js";

const PAGE_SIZE = 20;
const active = (list: GenerationJobList) => list.data.some((job) => job.status === "queued" || job.status === "in_progress");

/** Jobs: the workspace's recent generations, newest first, a page at a time. */
export function JobsPage(props: { client: ApiClient }) {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const after = cursors[cursors.length - 1];
  const page = useLoad(() => props.client.jobs({ limit: PAGE_SIZE, after }), { key: after, pollMs: 2000, poll: active });
  const list = page.data;
  return (
    <section>
      <h1>Jobs</h1>
      <p class="muted">Every generation of this workspace, synchronous or not, newest first. Kept 7 days.</p>
      <ErrorMessage error={page.error} />
      {!list ? (
        page.error ? null : <p class="loading">Loading jobs…</p>
      ) : list.data.length === 0 ? (
        <p>No jobs yet. Generate something in the <Link to="/playground">Playground</Link>.</p>
      ) : (
        <div class="table-wrap">
          <table class="table jobs stacked">
            <caption class="visually-hidden">Recent generation jobs</caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Images</th>
                <th scope="col">Prompt</th>
                <th scope="col">Model</th>
                <th scope="col">Size</th>
                <th scope="col">n</th>
                <th scope="col">Created</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((job) => (
                <tr key={job.id}>
                  <td data-label="Status">
                    <StatusBadge status={job.status} />
                  </td>
                  <td data-label="Images" class="thumbs">
                    {(job.data ?? []).slice(0, 4).map((image, index) => {
                      const source = imageSource(image);
                      return source ? <img key={index} src={source} alt={`Image ${index + 1} of job ${job.id}`} width={48} height={48} /> : null;
                    })}
                  </td>
                  <td data-label="Prompt" class="prompt">
                    <Link to={`/jobs/${encodeURIComponent(job.id)}`}>{job.prompt ?? job.id}</Link>
                  </td>
                  <td data-label="Model">
                    <code>{job.model}</code>
                  </td>
                  <td data-label="Size">{job.size ?? "—"}</td>
                  <td data-label="n">{job.n ?? "—"}</td>
                  <td data-label="Created">{formatTime(job.created_at)}</td>
                  <td data-label="Duration">{formatDuration(job.created_at, job.completed_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        {cursors.length > 1 ? (
          <button type="button" class="button" onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer jobs
          </button>
        ) : null}
        {list?.has_more && list.last_id ? (
          <button type="button" class="button" onClick={() => setCursors([...cursors, list.last_id ?? undefined])}>
            Older jobs
          </button>
        ) : null}
      </div>
    </section>
  );
}
