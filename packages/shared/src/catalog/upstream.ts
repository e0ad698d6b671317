import { z } from "zod";

/**
 * One GPU server behind a model: how to reach it, how much it can take, and
 * how the worker judges its health. Every setting has a default so a minimal
 * entry is name, protocol and base_url.
 */

export const UPSTREAM_PROTOCOLS = ["openai", "a1111", "comfyui", "cog"] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

/**
 * Passive health. Closed → open after `consecutive_failures` failed attempts
 * in a row, or when at least `min_requests` of the last `window_size`
 * attempts were made and `failure_rate` of them failed. After `cooldown_ms`
 * one trial request is let through (half-open): success closes the circuit,
 * failure opens it for another cool-down. Failures are connection errors,
 * timeouts, 5xx and garbage; 429 is back-pressure, honoured through
 * Retry-After, and the caller's own 4xx are neither.
 */
export const circuitBreakerSchema = z.strictObject({
  consecutive_failures: z.number().int().min(1).default(5),
  failure_rate: z.number().gt(0).max(1).default(0.5),
  window_size: z.number().int().min(1).max(1000).default(20),
  min_requests: z.number().int().min(1).default(10),
  cooldown_ms: z.number().int().min(100).default(10_000),
});
export type CircuitBreakerSpec = z.infer<typeof circuitBreakerSchema>;

/**
 * Active health: a cheap readiness request per protocol, never a paid
 * generation (openai: GET /v1/models; a1111: GET /sdapi/v1/progress;
 * comfyui: GET /system_stats; cog: GET /health-check).
 */
export const healthCheckSchema = z.strictObject({
  enabled: z.boolean().default(true),
  interval_ms: z.number().int().min(100).default(5000),
  timeout_ms: z.number().int().min(50).default(2000),
  /** Failed probes in a row before the upstream is taken out of rotation; one success brings it back. */
  unhealthy_threshold: z.number().int().min(1).default(2),
});
export type HealthCheckSpec = z.infer<typeof healthCheckSchema>;

/** `"<node id>.<input name>"` of an API-format ComfyUI workflow, e.g. `"6.text"`. */
const nodeInputSchema = z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, "workflow inputs look like '<node id>.<input name>', e.g. '6.text'");

/**
 * A ComfyUI workflow in API format ("Save (API)" in ComfyUI) and where our
 * request goes in it. `template` is the workflow object itself or a path to
 * its JSON file, relative to the model library file. `inputs` maps `prompt`,
 * `negative_prompt`, `width`, `height`, `seed`, `batch_size` and any model
 * parameter (e.g. `steps`, `guidance_scale`) to a node input; unmapped
 * request fields are not sent. `output_node` picks the node whose images are
 * returned (default: every image output, in node order).
 */
export const comfyWorkflowSchema = z.strictObject({
  template: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  inputs: z
    .record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), nodeInputSchema)
    .refine((inputs) => inputs.prompt !== undefined, "inputs.prompt is required"),
  output_node: z.string().min(1).optional(),
});
export type ComfyWorkflowSpec = z.infer<typeof comfyWorkflowSchema>;

export const upstreamSpecSchema = z
  .strictObject({
    /** Stable name used in logs and metrics labels. */
    name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/),
    protocol: z.enum(UPSTREAM_PROTOCOLS),
    base_url: z.url({ protocol: /^https?$/ }),
    /** The model name the upstream knows; defaults to the public model id. */
    model: z.string().min(1).optional(),
    /** Name of the environment variable holding the upstream's API key, if it needs one. */
    api_key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
    /** GPU slots: requests this upstream takes at once from one worker process. */
    max_concurrency: z.number().int().positive().default(4),
    /** Routing preference: a weight-2 upstream is filled to twice the share of its slots before a weight-1 one is preferred. */
    weight: z.number().positive().max(1000).default(1),
    /** Images one request may ask for (batch size); a larger `n` is split across calls. Unset: no cap. */
    max_images_per_request: z.number().int().min(1).max(100).optional(),
    /** Deadline for one HTTP attempt; image models take seconds to minutes. */
    timeout_ms: z.number().int().positive().default(120_000),
    /** Attempts per request on 429/5xx/connection errors, the first included. */
    max_attempts: z.number().int().min(1).max(10).default(3),
    /** Base and cap of the exponential backoff with full jitter between attempts. */
    retry_base_delay_ms: z.number().int().nonnegative().default(500),
    retry_max_delay_ms: z.number().int().nonnegative().default(10_000),
    circuit_breaker: circuitBreakerSchema.prefault({}),
    health_check: healthCheckSchema.prefault({}),
    /** comfyui only: the workflow to run. */
    workflow: comfyWorkflowSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.protocol === "comfyui" && spec.workflow === undefined) {
      ctx.addIssue({ code: "custom", path: ["workflow"], message: "protocol comfyui needs a workflow" });
    }
    if (spec.protocol !== "comfyui" && spec.workflow !== undefined) {
      ctx.addIssue({ code: "custom", path: ["workflow"], message: "workflow applies to protocol comfyui only" });
    }
  });
export type UpstreamSpec = z.infer<typeof upstreamSpecSchema>;
