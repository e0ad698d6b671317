import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RedisClient } from "../redis.js";

/** Names this process among its replicas (host, pid and a random part, as pids repeat across containers). */
export function newProcessId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** A readiness probe answers within this, whatever hangs behind it (Kubernetes gives up at its own timeoutSeconds). */
export const READINESS_TIMEOUT_MS = 2000;

/** Rejects with `${name}: timed out` when `work` takes longer than `timeoutMs`; the timer never outlives the race. */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export type ReadinessCheck = readonly [name: string, check: () => Promise<void>];

/**
 * One readiness verdict from several checks run side by side, each bounded:
 * resolves when all pass, otherwise rejects with every failing check's
 * reason ("redis: ...; storage: ...") so /readyz says why.
 */
export function createReadiness(checks: readonly ReadinessCheck[], timeoutMs = READINESS_TIMEOUT_MS): () => Promise<void> {
  return async () => {
    const results = await Promise.allSettled(checks.map(([name, check]) => withDeadline(check(), timeoutMs, name)));
    const reasons = results.flatMap((result, index) => {
      if (result.status === "fulfilled") return [];
      const message = result.reason instanceof Error ? result.reason.message : String(result.reason);
      const name = checks[index]![0];
      return [message.startsWith(`${name}:`) ? message : `${name}: ${message}`];
    });
    if (reasons.length > 0) throw new Error(reasons.join("; "));
  };
}

/**
 * A keyed write and read of this process's own key: PING alone passes on a
 * Redis that cannot serve the keyspace (a read-only replica, a cluster node
 * that does not own the keys, one still loading its data).
 */
export function redisKeyspaceCheck(redis: RedisClient, key: string): () => Promise<void> {
  return async () => {
    const value = randomBytes(8).toString("hex");
    await redis.set(key, value, "PX", 60_000);
    const read = await redis.get(key);
    if (read !== value) throw new Error("redis: a key written was not read back");
  };
}
