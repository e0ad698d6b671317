import type { ModelObjectWire } from "@imagegen/shared/public-api";
import { FieldControl } from "./form-field.js";
import { formFields } from "./form-fields.js";

/**
 * The Playground's form for one model: rendered from its card (formFields),
 * so every declared parameter gets one labelled control with its limits.
 * `fieldError` is the API's message for the field its error names.
 */
export function GenerationForm(props: {
  model: ModelObjectWire;
  values: Readonly<Record<string, string>>;
  fieldError: { param: string; message: string } | undefined;
  onChange: (name: string, value: string) => void;
}) {
  const fields = formFields(props.model);
  const common = fields.filter((field) => ["prompt", "size", "n", "response_format"].includes(field.name));
  const specific = fields.filter((field) => !common.includes(field));
  const render = (field: (typeof fields)[number]) => (
    <FieldControl
      key={`${props.model.id}:${field.name}`}
      field={field}
      value={props.values[field.name] ?? field.initial}
      error={props.fieldError?.param === field.name ? props.fieldError.message : undefined}
      onChange={(value) => props.onChange(field.name, value)}
    />
  );
  return (
    <div class="generation-form">
      {common.map(render)}
      {specific.length > 0 ? (
        <fieldset>
          <legend>Parameters of {props.model.id}</legend>
          {specific.map(render)}
        </fieldset>
      ) : null}
    </div>
  );
}
