import type { Logger } from "pino";

export interface GracefulShutdownOptions {
  log: Logger;
  /** Upper bound on `stop`; past it the process exits with status 1. */
  timeoutMs: number;
  /** What an operator should know when the bound is hit. */
  timeoutMessage: string;
  /** Stops taking work, finishes or hands back what is in flight, closes connections. */
  stop: () => Promise<void>;
}

/**
 * SIGTERM (orchestrators) and SIGINT (a terminal) run `stop` once, bounded
 * by `timeoutMs`, then exit. A second signal while stopping changes nothing.
 */
export function exitGracefullyOnSignals(options: GracefulShutdownOptions): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.log.info({ signal }, "shutting down");
    setTimeout(() => {
      options.log.warn(options.timeoutMessage);
      process.exit(1);
    }, options.timeoutMs).unref();
    try {
      await options.stop();
      options.log.info("stopped");
      process.exit(0);
    } catch (error) {
      options.log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", (signal) => void shutdown(signal));
  process.on("SIGINT", (signal) => void shutdown(signal));
}
