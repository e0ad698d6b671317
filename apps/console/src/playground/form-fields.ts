import type { ModelObjectWire, ParameterSpec } from "@imagegen/shared/public-api";

/**
 * The Playground's form, derived from a model card and nothing else: the
 * fields every model takes (prompt, size, n, response format) with the
 * card's constraints, then one field per parameter the card declares. The
 * card is the canonical parameter set, so the form is never listed by hand.
 */
export type FieldKind = "textarea" | "text" | "integer" | "number" | "select" | "boolean";

export interface FormField {
  /** The request field's name (what the API's `param` names on an error). */
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** What the card says about it: type, range or choices, default. */
  hint: string;
  min?: number | undefined;
  max?: number | undefined;
  maxLength?: number | undefined;
  /** For selects: the choices; "" means the model's default. */
  options?: Array<{ value: string; label: string }> | undefined;
  initial: string;
}

const labelOf = (name: string) => name.replace(/_/g, " ").replace(/^./, (first) => first.toUpperCase());

function rangeHint(spec: { minimum?: number | undefined; maximum?: number | undefined }): string {
  if (spec.minimum !== undefined && spec.maximum !== undefined) return `${spec.minimum} to ${spec.maximum}`;
  if (spec.minimum !== undefined) return `at least ${spec.minimum}`;
  if (spec.maximum !== undefined) return `at most ${spec.maximum}`;
  return "any value";
}

export function parameterField(name: string, spec: ParameterSpec): FormField {
  const description = spec.description ? ` ${spec.description}` : "";
  const base = { name, label: labelOf(name), required: false, initial: "" };
  switch (spec.type) {
    case "integer":
    case "number":
      return { ...base, kind: spec.type, min: spec.minimum, max: spec.maximum, hint: `${spec.type}, ${rangeHint(spec)}; model default if empty.${description}` };
    case "boolean":
      return {
        ...base,
        kind: "boolean",
        options: [
          { value: "", label: "Model default" },
          { value: "true", label: "true" },
          { value: "false", label: "false" },
        ],
        hint: `boolean; model default if unset.${description}`,
      };
    case "string":
      if (spec.enum) {
        return {
          ...base,
          kind: "select",
          options: [{ value: "", label: "Model default" }, ...spec.enum.map((choice) => ({ value: choice, label: choice }))],
          hint: `one of ${spec.enum.join(", ")}; model default if unset.${description}`,
        };
      }
      return { ...base, kind: "text", maxLength: spec.max_length, hint: `string, up to ${spec.max_length} characters; none if empty.${description}` };
  }
}

export function formFields(model: ModelObjectWire): FormField[] {
  const { image } = model;
  return [
    { name: "prompt", label: "Prompt", kind: "textarea", required: true, maxLength: image.max_prompt_length, hint: `Required; up to ${image.max_prompt_length} characters.`, initial: "" },
    {
      name: "size",
      label: "Size",
      kind: "select",
      required: false,
      options: image.sizes.map((size) => ({ value: size, label: size === image.default_size ? `${size} (default)` : size })),
      hint: image.sizes.length === 1 ? "The only size this model makes." : `One of ${image.sizes.length} sizes; default ${image.default_size}.`,
      initial: image.default_size,
    },
    { name: "n", label: "Number of images (n)", kind: "integer", required: false, min: 1, max: image.max_n, hint: image.max_n === 1 ? "This model makes one image per request." : `1 to ${image.max_n}; default 1.`, initial: "1" },
    {
      name: "response_format",
      label: "Response format",
      kind: "select",
      required: false,
      options: image.response_formats.map((format) => ({ value: format, label: format === "url" ? "url (default)" : format })),
      hint: "url: a link with a short lifetime; b64_json: the bytes inline.",
      initial: "url",
    },
    ...Object.entries(image.parameters).map(([name, spec]) => parameterField(name, spec)),
  ];
}

/**
 * The request body the form's values make: the model, then every field that
 * has a value, typed as the card declares (numbers as numbers, booleans as
 * booleans); empty fields are left out so the model's defaults apply.
 * Values the browser could not read as numbers are sent as typed, so the
 * API's own validation names the field.
 */
export function requestBody(model: ModelObjectWire, fields: readonly FormField[], values: Readonly<Record<string, string>>): Record<string, unknown> {
  const body: Record<string, unknown> = { model: model.id };
  for (const field of fields) {
    const raw = values[field.name] ?? field.initial;
    if (raw === "") continue;
    if (field.kind === "integer" || field.kind === "number") {
      const number = Number(raw);
      body[field.name] = raw.trim() !== "" && Number.isFinite(number) ? number : raw;
    } else if (field.kind === "boolean") {
      body[field.name] = raw === "true";
    } else {
      body[field.name] = raw;
    }
  }
  return body;
}
