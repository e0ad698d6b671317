/**
 * Counts an upstream's GPU slots in this worker process: at most `capacity`
 * requests are in flight; the rest wait in arrival order, and a waiter whose
 * signal aborts leaves the line without taking a slot.
 */
export interface Slots {
  readonly capacity: number;
  readonly inFlight: number;
  readonly waiting: number;
  acquire(signal: AbortSignal): Promise<() => void>;
}

export function createSlots(capacity: number): Slots {
  let inFlight = 0;
  const waiters: Array<{ grant: () => void }> = [];

  function release(): void {
    const next = waiters.shift();
    if (next) next.grant();
    else inFlight--;
  }

  function releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }

  return {
    capacity,
    get inFlight() {
      return inFlight;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (inFlight < capacity) {
        inFlight++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          // The slot passes straight from the releasing request to this one.
          grant: () => {
            signal.removeEventListener("abort", onAbort);
            resolve(releaser());
          },
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
  };
}
