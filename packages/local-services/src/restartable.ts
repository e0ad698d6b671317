import { killChildNow, stopChild, type RunningChild } from "./child-process.js";
import { track } from "./registry.js";

/**
 * stop/kill/restart for a server child that fault tests take down and bring
 * back. It is tracked only while running, so stopAll() and the exit hook
 * always see the current process, including one started after a stopAll().
 */
export async function startRestartableChild(options: {
  name: string;
  launch: () => Promise<RunningChild>;
  stopTimeoutMs: number;
}): Promise<{
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Resolves when the process running now exits (whoever ended it), to its exit code; undefined when none runs. */
  exited(): Promise<number | null> | undefined;
}> {
  let current: RunningChild | undefined;
  let untrack = (): void => undefined;

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = current;
    if (running === undefined) return;
    current = undefined;
    untrack();
    await stopChild(running, signal, options.stopTimeoutMs);
  };
  const stop = (): Promise<void> => end("SIGTERM");
  const start = async (): Promise<void> => {
    const running = await options.launch();
    current = running;
    untrack = track({ name: options.name, stop, killNow: () => killChildNow(running) });
  };

  await start();
  return {
    stop,
    kill: () => end("SIGKILL"),
    async restart() {
      await stop();
      await start();
    },
    exited: () => current?.exited,
  };
}
