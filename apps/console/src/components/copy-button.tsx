import { useState } from "preact/hooks";

/** Copies text to the clipboard and says so; the label names what is copied. */
export function CopyButton(props: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <button type="button" class="button small" onClick={copy} aria-label={props.label}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
