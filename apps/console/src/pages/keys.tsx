import type { ApiKeyObject, ApiKeyWithSecret, KeyRole } from "@imagegen/shared/public-api";
import { useState } from "preact/hooks";
import type { ApiClient } from "../api/client.js";
import { CopyButton } from "../components/copy-button.js";
import { ErrorMessage } from "../components/error-message.js";
import { formatTime } from "../format.js";
import { useLoad } from "../use-load.js";

const DAY_SECONDS = 24 * 3600;

/** API keys (admin keys only): list, create (secret shown once), rotate with a grace period, revoke. */
export function KeysPage(props: { client: ApiClient }) {
  const keys = useLoad(() => props.client.keys());
  const [secret, setSecret] = useState<ApiKeyWithSecret | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState<{ id: string; action: "rotate" | "revoke" } | null>(null);

  const run = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section>
      <h1>API keys</h1>
      <CreateKeyForm
        onCreate={(body) =>
          run(async () => {
            setSecret(await props.client.createKey(body));
          })
        }
      />
      {secret ? <NewSecret secret={secret} onDone={() => setSecret(null)} /> : null}
      <ErrorMessage error={error ?? keys.error} />
      {keys.data ? (
        <div class="table-wrap">
          <table class="table keys stacked">
            <caption class="visually-hidden">Keys of this workspace</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((key) => (
                <KeyRow
                  key={key.id}
                  apiKey={key}
                  confirming={confirming?.id === key.id ? confirming.action : undefined}
                  onAsk={(action) => setConfirming({ id: key.id, action })}
                  onCancel={() => setConfirming(null)}
                  onRotate={(graceSeconds) =>
                    run(async () => {
                      setConfirming(null);
                      setSecret(await props.client.rotateKey(key.id, graceSeconds));
                    })
                  }
                  onRevoke={() =>
                    run(async () => {
                      setConfirming(null);
                      await props.client.revokeKey(key.id);
                      // A revoked key's secret is of no use: stop showing it.
                      setSecret((shown) => (shown?.id === key.id ? null : shown));
                    })
                  }
                />
              ))}
            </tbody>
          </table>
          <p class="muted">Keys from the server's environment (env-…) are not listed: operators manage them.</p>
        </div>
      ) : keys.error ? null : (
        <p class="loading">Loading keys…</p>
      )}
    </section>
  );
}

function CreateKeyForm(props: { onCreate: (body: { name: string; role: KeyRole; expires_in_seconds?: number | undefined }) => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<KeyRole>("member");
  const [days, setDays] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    const expiresDays = Number(days);
    props.onCreate({ name: name.trim(), role, expires_in_seconds: days && expiresDays > 0 ? Math.round(expiresDays * DAY_SECONDS) : undefined });
    setName("");
  };
  return (
    <form class="card create-key" onSubmit={submit}>
      <h2>Create key</h2>
      <div class="row">
        <div class="field">
          <label for="key-name">Name</label>
          <input id="key-name" required maxLength={200} value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="key-role">Role</label>
          <select id="key-role" value={role} aria-describedby="key-role-hint" onChange={(event) => setRole(event.currentTarget.value === "admin" ? "admin" : "member")}>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
          <small id="key-role-hint" class="hint">
            member: generate, see jobs and batches. admin: also keys and usage.
          </small>
        </div>
        <div class="field">
          <label for="key-expiry">Expires after (days)</label>
          <input id="key-expiry" type="number" min={1} step={1} value={days} aria-describedby="key-expiry-hint" onInput={(event) => setDays(event.currentTarget.value)} />
          <small id="key-expiry-hint" class="hint">
            Empty: never.
          </small>
        </div>
      </div>
      <button type="submit" class="button primary">
        Create key
      </button>
    </form>
  );
}

function NewSecret(props: { secret: ApiKeyWithSecret; onDone: () => void }) {
  return (
    <div class="card secret" role="status">
      <h2>Copy the secret of {props.secret.name} now</h2>
      <p>It is shown this once: it is not stored anywhere we can show it again.</p>
      <div class="secret-row">
        <code aria-label="New API key secret" class="secret-value">
          {props.secret.key}
        </code>
        <CopyButton text={props.secret.key} label={`Copy the secret of ${props.secret.name}`} />
      </div>
      <button type="button" class="button" onClick={props.onDone}>
        I have copied it
      </button>
    </div>
  );
}

function KeyRow(props: {
  apiKey: ApiKeyObject;
  confirming: "rotate" | "revoke" | undefined;
  onAsk: (action: "rotate" | "revoke") => void;
  onCancel: () => void;
  onRotate: (graceSeconds: number) => void;
  onRevoke: () => void;
}) {
  const { apiKey: key } = props;
  const [graceHours, setGraceHours] = useState("24");
  const revoked = key.revoked_at !== null;
  const graceId = `grace-${key.id}`;
  return (
    <tr>
      <th scope="row">{key.name}</th>
      <td data-label="Key">
        <code>{key.prefix}</code>
      </td>
      <td data-label="Role">{key.role}</td>
      <td data-label="Created">{formatTime(key.created_at)}</td>
      <td data-label="Last used">{formatTime(key.last_used_at)}</td>
      <td data-label="Expires">{revoked ? `revoked ${formatTime(key.revoked_at)}` : key.expires_at ? formatTime(key.expires_at) : "never"}</td>
      <td data-label="Actions" class="key-actions">
        {revoked ? null : props.confirming === "revoke" ? (
          <span class="confirm">
            <span>Revoke {key.name}? Calls with it fail at once.</span>
            <button type="button" class="button small danger" onClick={props.onRevoke}>
              Confirm revoke
            </button>
            <button type="button" class="button small" onClick={props.onCancel}>
              Keep key
            </button>
          </span>
        ) : props.confirming === "rotate" ? (
          <span class="confirm">
            <label for={graceId}>Old secret keeps working (hours)</label>
            <input id={graceId} type="number" min={0} max={720} value={graceHours} onInput={(event) => setGraceHours(event.currentTarget.value)} />
            <button type="button" class="button small" onClick={() => props.onRotate(Math.max(0, Math.round(Number(graceHours) * 3600) || 0))}>
              Confirm rotate
            </button>
            <button type="button" class="button small" onClick={props.onCancel}>
              Back
            </button>
          </span>
        ) : (
          <>
            <button type="button" class="button small" onClick={() => props.onAsk("rotate")} aria-label={`Rotate ${key.name}`}>
              Rotate
            </button>
            <button type="button" class="button small danger" onClick={() => props.onAsk("revoke")} aria-label={`Revoke ${key.name}`}>
              Revoke
            </button>
          </>
        )}
      </td>
    </tr>
  );
}
