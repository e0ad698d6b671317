// Everything this package starts is recorded here so stopAll() can shut it
// down and so no child outlives the parent. This is module state on purpose:
// the 'exit' hook must see every child, whichever caller started it.

export interface TrackedService {
  name: string;
  /** Graceful, idempotent stop. */
  stop(): Promise<void>;
  /**
   * Synchronous last resort used from process.on('exit'), where no async work
   * runs. Containers pass a no-op: testcontainers' reaper (Ryuk) removes them.
   */
  killNow(): void;
}

const tracked: TrackedService[] = [];
let exitHookInstalled = false;

function killAllNow(): void {
  for (const service of tracked) {
    try {
      service.killNow();
    } catch {
      // Best effort: the parent is exiting and cannot report anything.
    }
  }
}

/** Records a service; returns a function that forgets it again. */
export function track(service: TrackedService): () => void {
  if (!exitHookInstalled) {
    // Installed lazily so importing this package has no side effects.
    process.on("exit", killAllNow);
    exitHookInstalled = true;
  }
  tracked.push(service);
  return () => {
    const index = tracked.indexOf(service);
    if (index !== -1) tracked.splice(index, 1);
  };
}

/** Stops every tracked service, newest first, so dependants go before what they depend on. */
export async function stopAll(): Promise<void> {
  const failures: string[] = [];
  while (tracked.length > 0) {
    const service = tracked.pop();
    if (service === undefined) break;
    try {
      await service.stop();
    } catch (error) {
      failures.push(`${service.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) throw new Error(`stopAll: some services failed to stop:\n${failures.join("\n")}`);
}
