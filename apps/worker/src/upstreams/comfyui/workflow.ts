import type { ComfyWorkflowSpec } from "@imagegen/shared";
import { parseSize } from "../http.js";
import type { UpstreamImageRequest } from "../upstream.js";

/** An API-format ComfyUI workflow: node id → { class_type, inputs }, as the catalog's template holds it. */
export type ComfyWorkflow = Record<string, unknown>;

interface Placement {
  node: string;
  input: string;
}

/** Names ComfyUI gave the edit's uploaded files, placed by the `image` and `mask` mappings. */
export interface UploadedInputs {
  image: string;
  mask?: string | undefined;
}

export interface WorkflowFiller {
  /** A fresh copy of the template with the request placed into its mapped nodes. */
  fill(request: UpstreamImageRequest, seed: number, uploaded?: UploadedInputs): ComfyWorkflow;
}

function isNode(value: unknown): value is { inputs: Record<string, unknown> } {
  return typeof value === "object" && value !== null && "inputs" in value && typeof value.inputs === "object" && value.inputs !== null;
}

/**
 * Checks the mapping against the template once, at start-up, so a typo in a
 * node id stops the worker instead of failing every request.
 */
export function createWorkflowFiller(spec: ComfyWorkflowSpec): WorkflowFiller {
  if (typeof spec.template === "string") throw new Error(`workflow template ${spec.template} was not loaded`);
  const template = spec.template;
  const placements = new Map<string, Placement>();
  for (const [field, target] of Object.entries(spec.inputs)) {
    const dot = target.lastIndexOf(".");
    const placement = { node: target.slice(0, dot), input: target.slice(dot + 1) };
    if (!isNode(template[placement.node])) throw new Error(`workflow input '${field}' points at node '${placement.node}', which the template does not have`);
    placements.set(field, placement);
  }
  if (spec.output_node !== undefined && !isNode(template[spec.output_node])) {
    throw new Error(`workflow output_node '${spec.output_node}' is not a node of the template`);
  }

  return {
    fill(request, seed, uploaded) {
      const workflow: ComfyWorkflow = structuredClone(template);
      const { width, height } = parseSize(request.size);
      const values: Record<string, unknown> = {
        ...request.parameters,
        prompt: request.prompt,
        width,
        height,
        batch_size: request.n,
        seed,
        ...(uploaded === undefined ? {} : { image: uploaded.image, mask: uploaded.mask }),
      };
      for (const [field, placement] of placements) {
        const value = Object.hasOwn(values, field) ? values[field] : undefined;
        // Unmapped request fields are not sent; mapped ones the caller left out keep the template's value.
        const node = workflow[placement.node];
        // Every placement's node was checked at start-up; the clone has it too.
        if (value !== undefined && isNode(node)) node.inputs[placement.input] = value;
      }
      return workflow;
    },
  };
}
