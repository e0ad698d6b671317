import type { GenerationJobWire, ModelObjectWire } from "@imagegen/shared/public-api";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type ApiClient } from "../api/client.js";
import { ErrorMessage } from "../components/error-message.js";
import { Link } from "../components/link.js";
import { StatusBadge } from "../components/status-badge.js";
import { imageSource } from "../format.js";
import { CodeView } from "../playground/code-view.js";
import { formFields, requestBody } from "../playground/form-fields.js";
import { GenerationForm } from "../playground/generation-form.js";
import { useLoad } from "../use-load.js";

const POLL_MS = 500;
const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** Playground: pick a model, fill the form its card defines, generate, watch the job, see the images. */
export function PlaygroundPage(props: { client: ApiClient; initialModel: string | undefined }) {
  const models = useLoad(() => props.client.models());
  const [modelId, setModelId] = useState<string | undefined>(props.initialModel);
  const [values, setValues] = useState<Record<string, string>>({});
  const [job, setJob] = useState<GenerationJobWire | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const polling = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const list = models.data?.data ?? [];
  const model: ModelObjectWire | undefined = list.find((entry) => entry.id === modelId) ?? list[0];
  useEffect(() => () => clearTimeout(polling.current), []);

  const body = model ? requestBody(model, formFields(model), values) : {};
  const fieldError = error instanceof ApiError && error.param ? { param: error.param, message: error.message } : undefined;

  const poll = (id: string) => {
    polling.current = setTimeout(async () => {
      try {
        const next = await props.client.job(id);
        setJob(next);
        if (!ENDED.has(next.status)) poll(id);
      } catch (failure) {
        setError(failure);
      }
    }, POLL_MS);
  };

  const generate = async (event: Event) => {
    event.preventDefault();
    clearTimeout(polling.current);
    setBusy(true);
    setError(null);
    setJob(undefined);
    try {
      const queued = await props.client.generate(body);
      setJob(queued);
      if (!ENDED.has(queued.status)) poll(queued.id);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (!job) return;
    try {
      setJob(await props.client.cancelJob(job.id));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section>
      <h1>Playground</h1>
      <ErrorMessage error={models.error} />
      {!model ? (
        models.data ? <p>No image models are available to this workspace.</p> : <p class="loading">Loading models…</p>
      ) : (
        <div class="playground">
          <form class="card" onSubmit={generate} aria-labelledby="playground-form-heading">
            <h2 id="playground-form-heading">Request</h2>
            <div class="field">
              <label for="field-model">Model</label>
              <select
                id="field-model"
                value={model.id}
                onChange={(event) => {
                  setModelId(event.currentTarget.value);
                  setValues((current) => ({ prompt: current.prompt ?? "" }));
                  setError(null);
                }}
              >
                {list.map((entry) => (
                  <option key={entry.id} value={entry.id}>
                    {entry.id}
                  </option>
                ))}
              </select>
              <small class="hint">{model.description ?? "The fields below come from this model's card."}</small>
            </div>
            <GenerationForm model={model} values={values} fieldError={fieldError} onChange={(name, value) => setValues((current) => ({ ...current, [name]: value }))} />
            {error && !(fieldError && formFields(model).some((field) => field.name === fieldError.param)) ? <ErrorMessage error={error} /> : null}
            {fieldError && formFields(model).some((field) => field.name === fieldError.param) ? (
              <p class="error" role="alert">
                {fieldError.message} (field: {fieldError.param})
              </p>
            ) : null}
            <div class="actions">
              <button type="submit" class="button primary" disabled={busy}>
                Generate
              </button>
            </div>
          </form>
          <div class="playground-side">
            <JobStatus job={job} onCancel={cancel} />
            <CodeView baseUrl={`${window.location.origin}/v1`} body={body} />
          </div>
        </div>
      )}
    </section>
  );
}

function JobStatus(props: { job: GenerationJobWire | undefined; onCancel: () => void }) {
  const { job } = props;
  return (
    <section class="card result" aria-labelledby="result-heading">
      <h2 id="result-heading">Result</h2>
      <div aria-live="polite" class="status-line">
        {!job ? (
          <p class="muted">Generated images appear here.</p>
        ) : (
          <p>
            <StatusBadge status={job.status} />{" "}
            {job.status === "queued" && job.queue_position !== undefined ? <span>Position in queue: {job.queue_position}</span> : null}
            {" "}
            <Link to={`/jobs/${encodeURIComponent(job.id)}`}>Job {job.id}</Link>
          </p>
        )}
      </div>
      {job && (job.status === "queued" || job.status === "in_progress") ? (
        <button type="button" class="button" onClick={props.onCancel}>
          Cancel job
        </button>
      ) : null}
      {job?.error ? (
        <p class="error" role="alert">
          {job.error.message}
          {job.error.param ? ` (field: ${job.error.param})` : ""}
        </p>
      ) : null}
      {job?.data ? (
        <ul class="images">
          {job.data.map((image, index) => {
            const source = imageSource(image);
            return source ? (
              <li key={index}>
                <img src={source} alt={`Generated image ${index + 1} of ${job.data?.length ?? 1}`} />
                <a href={source} download={`${job.id}-${index + 1}.png`} class="button small">
                  Download image {index + 1}
                </a>
              </li>
            ) : null;
          })}
        </ul>
      ) : null}
    </section>
  );
}
