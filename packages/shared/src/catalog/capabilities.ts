import { z } from "zod";
import { QUALITIES, type Quality } from "../basics/image-options.js";
import type { UpstreamProtocol, UpstreamSpec } from "./upstream.js";

/**
 * What a model can do beyond a plain generation, so the API refuses what no
 * upstream of the model could honour instead of dropping it. Defaults come
 * from what every protocol of the model's upstreams can carry; a card may
 * narrow them (a checkpoint without inpainting) or, for edits, opt in.
 */


interface ProtocolReach {
  /** Non-default `quality` values the protocol can carry (openai: as is; a1111: as a step count). */
  qualities: readonly Quality[];
  /** `style` (vivid/natural) passed on as is. */
  style: boolean;
  /** `background: "transparent"` passed on, the image's alpha kept. */
  transparentBackground: boolean;
  /** Most input images one edit call can carry. */
  maxInputImages: number;
}

const PROTOCOL_REACH: Readonly<Record<UpstreamProtocol, ProtocolReach>> = {
  openai: { qualities: ["low", "medium", "high", "xhigh", "max", "standard", "hd"], style: true, transparentBackground: true, maxInputImages: 16 },
  // txt2img/img2img have no quality knob: low/medium/high become step counts (A1111_QUALITY_STEPS).
  a1111: { qualities: ["low", "medium", "high"], style: false, transparentBackground: false, maxInputImages: 1 },
  comfyui: { qualities: [], style: false, transparentBackground: false, maxInputImages: 1 },
  cog: { qualities: [], style: false, transparentBackground: false, maxInputImages: 1 },
};

/** Denoising steps A1111 runs for each `quality`, unless the caller set `steps` itself. */
export const A1111_QUALITY_STEPS: Readonly<Partial<Record<Quality, number>>> = { low: 12, medium: 25, high: 40 };

export const capabilitiesSpecSchema = z.strictObject({
  /** `POST /v1/images/generations` (default true). */
  generations: z.boolean().default(true),
  /** `POST /v1/images/edits`: absent means the model does not edit. */
  edits: z
    .strictObject({
      /** Images one edit may carry (`image[]`), at most what its upstreams' protocols can. */
      max_input_images: z.number().int().min(1).max(16).default(1),
      /** Whether a `mask` (transparent = area to repaint) is honoured. */
      mask: z.boolean().default(false),
    })
    .optional(),
  /** `background: "transparent"`; default: when every upstream can carry it. */
  transparent_background: z.boolean().optional(),
  /** `quality` values other than `auto`; default: what every upstream can carry. */
  qualities: z.array(z.enum(QUALITIES)).optional(),
});
export type CapabilitiesSpec = z.infer<typeof capabilitiesSpecSchema>;

export interface ModelCapabilities {
  generations: boolean;
  edits: { maxInputImages: number; mask: boolean } | undefined;
  transparentBackground: boolean;
  qualities: readonly Quality[];
  style: boolean;
}

function everyUpstream(upstreams: readonly UpstreamSpec[], pick: (reach: ProtocolReach) => boolean): boolean {
  return upstreams.every((upstream) => pick(PROTOCOL_REACH[upstream.protocol]));
}

/**
 * Resolves a card's capabilities against its upstreams. Returns the problems
 * instead of throwing so the catalog schema can report them with their path.
 */
export function resolveCapabilities(
  spec: CapabilitiesSpec | undefined,
  upstreams: readonly UpstreamSpec[],
): { capabilities: ModelCapabilities; problems: { path: string[]; message: string }[] } {
  const problems: { path: string[]; message: string }[] = [];
  const reachable = QUALITIES.filter((quality) => quality !== "auto" && everyUpstream(upstreams, (reach) => reach.qualities.includes(quality)));
  const qualities = spec?.qualities ?? reachable;
  for (const quality of qualities) {
    if (quality !== "auto" && !reachable.includes(quality)) {
      problems.push({ path: ["capabilities", "qualities"], message: `quality '${quality}' cannot be carried by every upstream's protocol` });
    }
  }
  const transparentReach = everyUpstream(upstreams, (reach) => reach.transparentBackground);
  if (spec?.transparent_background === true && !transparentReach) {
    problems.push({ path: ["capabilities", "transparent_background"], message: "a transparent background needs upstreams speaking the openai protocol" });
  }
  let edits: ModelCapabilities["edits"];
  if (spec?.edits) {
    const protocolMax = Math.min(...upstreams.map((upstream) => PROTOCOL_REACH[upstream.protocol].maxInputImages));
    if (spec.edits.max_input_images > protocolMax) {
      problems.push({ path: ["capabilities", "edits", "max_input_images"], message: `at most ${protocolMax} input image(s) fit one call of this model's upstreams` });
    }
    upstreams.forEach((upstream, index) => {
      if (upstream.protocol !== "comfyui") return;
      const inputs = upstream.workflow?.inputs ?? {};
      if (inputs.image === undefined) problems.push({ path: ["upstreams", String(index), "workflow", "inputs", "image"], message: "edits need the workflow's image input mapped" });
      if (spec.edits?.mask && inputs.mask === undefined) problems.push({ path: ["upstreams", String(index), "workflow", "inputs", "mask"], message: "mask support needs the workflow's mask input mapped" });
    });
    edits = { maxInputImages: spec.edits.max_input_images, mask: spec.edits.mask };
  }
  return {
    capabilities: {
      generations: spec?.generations ?? true,
      edits,
      transparentBackground: spec?.transparent_background ?? transparentReach,
      qualities: qualities.filter((quality) => quality !== "auto"),
      style: everyUpstream(upstreams, (reach) => reach.style),
    },
    problems,
  };
}
