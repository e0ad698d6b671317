import type { FormField } from "./form-fields.js";

/** One labelled control for a form field, with the card's constraints and the API's error for it. */
export function FieldControl(props: { field: FormField; value: string; error: string | undefined; onChange: (value: string) => void }) {
  const { field, value, error } = props;
  const id = `field-${field.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = error ? `${hintId} ${errorId}` : hintId;
  const common = {
    id,
    name: field.name,
    "aria-describedby": describedBy,
    "aria-invalid": error ? true : undefined,
    required: field.required,
  };
  let control;
  switch (field.kind) {
    case "textarea":
      control = <textarea {...common} rows={3} maxLength={field.maxLength} value={value} onInput={(event) => props.onChange(event.currentTarget.value)} />;
      break;
    case "select":
    case "boolean":
      control = (
        <select {...common} value={value} onChange={(event) => props.onChange(event.currentTarget.value)}>
          {(field.options ?? []).map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      );
      break;
    case "integer":
    case "number":
      control = (
        <input
          {...common}
          type="number"
          inputMode={field.kind === "integer" ? "numeric" : "decimal"}
          step={field.kind === "integer" ? 1 : "any"}
          min={field.min}
          max={field.max}
          value={value}
          onInput={(event) => props.onChange(event.currentTarget.value)}
        />
      );
      break;
    case "text":
      control = <input {...common} type="text" maxLength={field.maxLength} value={value} onInput={(event) => props.onChange(event.currentTarget.value)} />;
      break;
  }
  return (
    <div class={`field field-${field.kind}`}>
      <label for={id}>
        {field.label}
        {field.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {control}
      <small id={hintId} class="hint">
        {field.hint}
      </small>
      {error ? (
        <small id={errorId} class="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}
