import type { SessionObject } from "@imagegen/shared/public-api";
import { useState } from "preact/hooks";
import { ApiError, type ApiClient } from "../api/client.js";

/** Sign in with an API key: exchanged for a session cookie at once and never stored by the page. */
export function SignInPage(props: { client: ApiClient; onSignedIn: (session: SessionObject) => void }) {
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await props.client.signIn(apiKey.trim());
      setApiKey("");
      props.onSignedIn(session);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) setError("That API key was not accepted. Check it and try again.");
      else if (failure instanceof ApiError && failure.status === 429) setError("Too many failed attempts from this address. Wait a minute and try again.");
      else setError(failure instanceof Error ? failure.message : "Sign-in failed.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card sign-in">
      <h1>Sign in to the imagegen console</h1>
      <p>Use an API key of your workspace. The key is exchanged for a session; it is not stored in this browser.</p>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={apiKey}
          onInput={(event) => setApiKey(event.currentTarget.value)}
          aria-describedby={error ? "sign-in-error" : undefined}
          aria-invalid={error ? true : undefined}
        />
        {error ? (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="button primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}
