import { lockWaitAborted } from "./key-lock.js";

/**
 * The in-process half of `withKeyLock`: per key, callers run one after the other, in call order. The map
 * holds only the tail of each queue and forgets a key once its queue drains, so memory stays bounded.
 */
export class KeyQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Whether a caller of `key` is running or queued in this process. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.tails.get(key);
    const run = (async () => {
      if (previous) await untilSettledOrAborted(previous, signal, key);
      return fn();
    })();
    // The next caller waits for both: an aborted waiter must not let it overtake a holder still running.
    const tail = Promise.allSettled([previous, run]).then(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}

async function untilSettledOrAborted(previous: Promise<void>, signal: AbortSignal | undefined, key: string) {
  if (!signal) return previous;
  if (signal.aborted) throw lockWaitAborted(signal, `generation ${key}`);
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(lockWaitAborted(signal, `generation ${key}`));
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
