import { inject } from "vitest";
import OpenAI from "openai";

export interface StackInfo {
  /** Origin of the API, e.g. http://127.0.0.1:41234 */
  apiUrl: string;
  apiMetricsUrl: string;
  workerMetricsUrl: string;
  storage: "s3" | "fs";
  urlTtlSeconds: number;
}

export interface SuiteInfo {
  apiKey: string;
  /** A second accepted key, configured only as a SHA-256 digest. */
  hashedApiKey: string;
  /** `idle`: an API whose queue no worker serves, so its jobs stay queued. */
  stacks: { s3: StackInfo; fs: StackInfo; limited: StackInfo; expiring: StackInfo; idle: StackInfo };
  /** What the workers sign webhooks with (`whsec_…`). */
  webhookSigningSecret: string;
  /** Operator token of the fs stack's admin API (the other stacks have none). */
  adminToken: string;
  shortCompletionWindowSeconds: number;
  simulators: Record<string, string>;
  logDir: string;
  rateLimitPerMinute: number;
  redis: { url: string; prefixes: Record<"s3" | "fs", string> };
}

declare module "vitest" {
  export interface ProvidedContext {
    suite: SuiteInfo;
  }
}

export function suite(): SuiteInfo {
  return inject("suite");
}

/** The official openai client, changed only in its base URL. Retries off so each answer is seen. */
export function openaiClient(stack: StackInfo, apiKey = suite().apiKey): OpenAI {
  return new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
}

export async function simulatorStats(profile: string): Promise<{ requests: number; maxInFlight: number; inFlight: number }> {
  const response = await fetch(`${suite().simulators[profile]}/_sim/stats`);
  return (await response.json()) as { requests: number; maxInFlight: number; inFlight: number };
}

/** One series' value from a Prometheus text page, or undefined. */
export async function scrapeMetric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** The Redis the suite's stacks share, with the BullMQ key prefix of each stack. */
export function redisInfo(): { url: string; prefixes: Record<"s3" | "fs", string> } {
  return suite().redis;
}
