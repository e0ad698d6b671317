import { z } from "zod";
import { parseClusterNodes } from "../redis.js";

/** Settings every process (API and worker) reads the same way. */
export const commonEnvSchema = z.object({
  /** Redis holding the queues. Use a dedicated instance with `maxmemory-policy noeviction`. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://").default("redis://127.0.0.1:6379"),
  /**
   * Seed nodes of a Redis Cluster (`host:port,host:port`; any nodes, not only
   * slot owners). When set, every connection is a cluster client and REDIS_URL
   * is not used.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((text, ctx) => {
      try {
        return parseClusterNodes(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `REDIS_CLUSTER_NODES: ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .optional(),
  /**
   * First part of every Redis key; lets several deployments share one Redis.
   * No braces: keys carry their own hash tags (see redis-keys.ts), and a tag
   * in the prefix would put every key in one cluster slot.
   */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_:-]{1,64}$/, "QUEUE_PREFIX takes letters, digits, '_', ':' and '-' (no braces: keys carry their own hash tags)")
    .default("imagegen"),
  /** The model library file (YAML or JSON). */
  MODEL_CATALOG_PATH: z.string().min(1).default("config/models.yaml"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How long a graceful shutdown may take before in-flight work is handed back. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * `false`: no /metrics and every metric update a no-op. For measuring what
   * instrumentation costs (bench/src/instrumentation-overhead.ts), not for production.
   */
  METRICS_ENABLED: z.enum(["true", "false"]).default("true").transform((value) => value === "true"),
  /**
   * `on`: generate-image jobs that would wait are dispatched in weighted fair
   * order between workspaces (see README, "Fair share"). `off`: first come,
   * first served within each kind. Set it the same on the API and the workers;
   * workers release held jobs either way.
   */
  FAIR_SHARE: z.enum(["on", "off"]).default("on"),
  /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; Prometheus sends it with `authorization.credentials`. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
});

/**
 * Parses the environment once at start-up. On a bad value it throws one
 * error listing every problem, so an operator fixes them in one go.
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>, processName: string): z.infer<T> {
  // Empty strings mean "unset", as they do in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new Error(`${processName}: invalid configuration\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
