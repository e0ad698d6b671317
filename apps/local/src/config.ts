import { z } from "zod";

/** Settings of the embedded launcher itself; everything else passes through to the processes it starts. */
const localEnvSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65_535).default(8080),
  /** Loopback by default: the embedded stack is for one machine. */
  HOST: z.string().default("127.0.0.1"),
  BOOTSTRAP_API_KEY: z.string().min(16).optional(),
  /** Where Redis's append-only file, images, secrets and logs live. */
  LOCAL_DATA_DIR: z.string().default(".data/local"),
  MODEL_CATALOG_PATH: z.string().default("config/models.yaml"),
  /**
   * Use this Redis (or, with REDIS_CLUSTER_NODES, this Redis Cluster) instead
   * of starting a private redis-server; it is then neither started, stopped
   * nor restarted by the launcher.
   */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://").optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  /** Worker processes to run, each supervised; they share the GPU slots (global by default). */
  WORKERS: z.coerce.number().int().min(1).max(32).default(1),
  /** Copy the processes' JSON logs to this terminal (they always go to files too). */
  LOCAL_ECHO_LOGS: z.enum(["true", "false"]).default("true").transform((value) => value === "true"),
});
export type LocalConfig = z.infer<typeof localEnvSchema>;

export function loadLocalConfig(env: Record<string, string | undefined>): LocalConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = localEnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new Error(`invalid configuration\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
