import { useState } from "preact/hooks";
import { CopyButton } from "../components/copy-button.js";
import { CODE_LANGUAGES, codeSample, type CodeLanguage } from "./code-samples.js";

/** The Playground's request as curl, Python and JavaScript, in tabs a keyboard can move through. */
export function CodeView(props: { baseUrl: string; body: Record<string, unknown> }) {
  const [language, setLanguage] = useState<CodeLanguage>("curl");
  const code = codeSample(language, props.baseUrl, props.body);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const index = CODE_LANGUAGES.findIndex((entry) => entry.id === language);
    const next = CODE_LANGUAGES[(index + (event.key === "ArrowRight" ? 1 : CODE_LANGUAGES.length - 1)) % CODE_LANGUAGES.length]!;
    setLanguage(next.id);
    document.getElementById(`code-tab-${next.id}`)?.focus();
  };
  return (
    <section class="card code-view" aria-labelledby="code-heading">
      <div class="code-head">
        <h2 id="code-heading">Code</h2>
        <CopyButton text={code} label={`Copy the ${CODE_LANGUAGES.find((entry) => entry.id === language)?.label} code`} />
      </div>
      <div role="tablist" aria-label="Language" class="tabs">
        {CODE_LANGUAGES.map((entry) => (
          <button
            key={entry.id}
            type="button"
            role="tab"
            id={`code-tab-${entry.id}`}
            class="tab"
            aria-selected={entry.id === language}
            aria-controls="code-panel"
            tabIndex={entry.id === language ? 0 : -1}
            onClick={() => setLanguage(entry.id)}
            onKeyDown={onKeyDown}
          >
            {entry.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="code-panel" aria-labelledby={`code-tab-${language}`}>
        <pre tabIndex={0} aria-label={`${language} code`}>
          <code>{code}</code>
        </pre>
      </div>
      <p class="muted">
        curl sends exactly the Playground's request (<code>Prefer: respond-async</code>, then poll the job). The SDKs send the same body and wait for the images.
      </p>
    </section>
  );
}
