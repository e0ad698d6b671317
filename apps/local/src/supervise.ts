/**
 * Keeps one child of the embedded stack running: when it exits on its own
 * (a crash, `kill -9`), a line goes to the terminal and it is started again
 * after a backoff that doubles while it keeps dying and resets once it has
 * stayed up. Stopping the supervisor first means an exit is expected.
 */
export interface RunningChild {
  exited: Promise<number | null>;
}

export interface SupervisorOptions {
  name: string;
  /** Starts the child again; resolves once it is ready, with a promise of its exit code. */
  start: () => Promise<RunningChild>;
  /** Where the terminal lines go. */
  print: (line: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Up this long, the child counts as healthy again and the backoff starts over. */
  stableAfterMs?: number;
}

export interface Supervisor {
  /** No restarts from now on (Ctrl-C): the caller stops the child itself. */
  stop(): void;
  /** Times the child has been started again. */
  restarts(): number;
}

export function supervise(first: RunningChild, options: SupervisorOptions): Supervisor {
  const initialMs = options.initialBackoffMs ?? 500;
  const maxMs = options.maxBackoffMs ?? 30_000;
  const stableMs = options.stableAfterMs ?? 60_000;
  let stopped = false;
  let restarts = 0;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  void (async () => {
    let exit = first.exited;
    let startedAt = Date.now();
    let backoffMs = initialMs;
    for (;;) {
      const code = await exit;
      if (stopped) return;
      if (Date.now() - startedAt >= stableMs) backoffMs = initialMs;
      options.print(`${options.name} exited (${code === null ? "killed by a signal" : `code ${code}`}); restarting in ${(backoffMs / 1000).toFixed(1)} s`);
      for (;;) {
        await pause(backoffMs);
        if (stopped) return;
        backoffMs = Math.min(maxMs, backoffMs * 2);
        try {
          exit = (await options.start()).exited;
          startedAt = Date.now();
          restarts++;
          options.print(`${options.name} restarted`);
          break;
        } catch (error) {
          options.print(`${options.name} could not be restarted (${error instanceof Error ? error.message.split("\n")[0] : String(error)}); retrying in ${(backoffMs / 1000).toFixed(1)} s`);
        }
      }
    }
  })();

  return {
    stop() {
      stopped = true;
      wake?.();
    },
    restarts: () => restarts,
  };
}
