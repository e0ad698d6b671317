import { recordWorkerHeartbeat, removeWorkerHeartbeat, WORKER_HEARTBEAT_INTERVAL_MS, type Logger, type RedisClient } from "@imagegen/shared";

/**
 * Tells the API this worker consumes the queue (see worker-heartbeat.ts in
 * the shared package). The first beat is written before start() returns, so
 * an API sees the worker as soon as it is ready.
 */
export function createWorkerHeartbeat(deps: { redis: RedisClient; prefix: string; workerId: string; log: Logger }) {
  let timer: NodeJS.Timeout | undefined;
  const beat = () =>
    recordWorkerHeartbeat(deps.redis, deps.prefix, deps.workerId).catch((error: unknown) =>
      deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not record the worker heartbeat"),
    );
  return {
    async start(): Promise<void> {
      await beat();
      timer = setInterval(() => void beat(), WORKER_HEARTBEAT_INTERVAL_MS);
      timer.unref();
    },
    /** First thing on shutdown: APIs stop sending work here while the jobs in hand finish. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await removeWorkerHeartbeat(deps.redis, deps.prefix, deps.workerId).catch(() => {});
    },
  };
}
