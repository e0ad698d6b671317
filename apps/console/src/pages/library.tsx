import type { ModelHealth, ModelObjectWire, ParameterSpec } from "@imagegen/shared/public-api";
import type { ApiClient } from "../api/client.js";
import { CopyButton } from "../components/copy-button.js";
import { ErrorMessage } from "../components/error-message.js";
import { Link } from "../components/link.js";
import { useLoad } from "../use-load.js";

function constraint(spec: ParameterSpec): string {
  switch (spec.type) {
    case "string":
      return spec.enum ? `one of: ${spec.enum.join(", ")}` : `up to ${spec.max_length} characters`;
    case "integer":
    case "number":
      if (spec.minimum !== undefined && spec.maximum !== undefined) return `${spec.minimum} to ${spec.maximum}`;
      if (spec.minimum !== undefined) return `≥ ${spec.minimum}`;
      if (spec.maximum !== undefined) return `≤ ${spec.maximum}`;
      return "any";
    case "boolean":
      return "true or false";
  }
}

const HEALTH_TEXT: Record<ModelHealth["status"], string> = {
  healthy: "Healthy",
  unhealthy: "Unavailable",
  unknown: "Health unknown",
};

/** Model Library, Image tab: every model the workspace may use, as its card declares it. */
export function LibraryPage(props: { client: ApiClient }) {
  const models = useLoad(() => props.client.models());
  const health = useLoad(() => props.client.modelHealth(), { pollMs: 10_000, poll: () => true });
  const healthOf = (id: string) => health.data?.data.find((entry) => entry.model === id);
  return (
    <section>
      <h1>Model Library</h1>
      <div class="tabs" role="tablist" aria-label="Model types">
        <button type="button" role="tab" aria-selected="true" class="tab" id="tab-image" aria-controls="panel-image">
          Image
        </button>
      </div>
      <div role="tabpanel" id="panel-image" aria-labelledby="tab-image">
        <ErrorMessage error={models.error} />
        {models.data ? (
          models.data.data.length === 0 ? (
            <p>No image models are available to this workspace.</p>
          ) : (
            <ul class="model-list">
              {models.data.data.map((model) => (
                <ModelCard key={model.id} model={model} health={healthOf(model.id)} />
              ))}
            </ul>
          )
        ) : models.error ? null : (
          <p class="loading">Loading models…</p>
        )}
      </div>
    </section>
  );
}

function ModelCard(props: { model: ModelObjectWire; health: ModelHealth | undefined }) {
  const { model, health } = props;
  const headingId = `model-${model.id.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const parameters = Object.entries(model.image.parameters);
  return (
    <li class="card model-card" aria-labelledby={headingId}>
      <div class="model-head">
        <h2 id={headingId}>
          <code>{model.id}</code>
        </h2>
        <CopyButton text={model.id} label={`Copy model id ${model.id}`} />
        <span class={`health health-${health?.status ?? "unknown"}`}>{HEALTH_TEXT[health?.status ?? "unknown"]}</span>
      </div>
      {model.description ? <p>{model.description}</p> : null}
      <dl class="facts">
        <dt>Sizes</dt>
        <dd>
          {model.image.sizes.map((size) => (size === model.image.default_size ? `${size} (default)` : size)).join(", ")}
        </dd>
        <dt>Max n</dt>
        <dd>{model.image.max_n}</dd>
        <dt>Prompt</dt>
        <dd>up to {model.image.max_prompt_length} characters</dd>
        <dt>Can do</dt>
        <dd>Generations (POST /v1/images/generations); edits: not offered</dd>
        <dt>Owned by</dt>
        <dd>{model.owned_by}</dd>
      </dl>
      {parameters.length > 0 ? (
        <div class="table-wrap">
        <table class="table stacked">
          <caption>Parameters of {model.id}</caption>
          <thead>
            <tr>
              <th scope="col">Parameter</th>
              <th scope="col">Type</th>
              <th scope="col">Range or choices</th>
              <th scope="col">Default</th>
            </tr>
          </thead>
          <tbody>
            {parameters.map(([name, spec]) => (
              <tr key={name}>
                <th scope="row">
                  <code>{name}</code>
                  {spec.description ? <div class="muted">{spec.description}</div> : null}
                </th>
                <td data-label="Type">{spec.type}</td>
                <td data-label="Range or choices">{constraint(spec)}</td>
                <td data-label="Default">model default</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      ) : (
        <p class="muted">No model-specific parameters.</p>
      )}
      <p>
        <Link to={`/playground?model=${encodeURIComponent(model.id)}`} class="button">
          Open {model.id} in Playground
        </Link>
      </p>
    </li>
  );
}
