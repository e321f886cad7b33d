/**
 * How many MaxAPI tasks run at once (the `concurrency` option). A slot is held from a task's submit (or resume) until
 * the task is terminal: its download and the sharp work that follows run outside it, so the next task is submitted
 * while the previous one's images are still being stored.
 *
 * `concurrency: "auto"` starts at `AUTO_CONCURRENCY.initial` and grows while the API accepts: one more slot for every
 * submit it accepts, so each accepted submit lets one more go out, and an API that takes everything has
 * `AUTO_CONCURRENCY.max` tasks running after a few submit round trips (milliseconds to a second, against task times
 * of seconds). A 429 halves it (once per round: the other submits of that round, sent under the old limit, do not
 * halve it again), and from then on it grows by one per `limit` accepted submits, probing gently. Every 429, in either mode,
 * pauses new submits for its `Retry-After` and puts the refused submit back at the head of the queue: MaxAPI created
 * no task for it, so sending it again pays nothing twice.
 */

import { sleep } from "../shared/sleep.js";

/** The `concurrency` option: a fixed number of tasks in flight, or adaptive. */
export type ConcurrencySetting = number | "auto";

export const AUTO_CONCURRENCY = Object.freeze({
  /** Where `auto` starts: what a fixed setting used to default to. */
  initial: 8,
  /** Where it stops growing. MaxAPI documents no limit; 64 tasks of a build at once is plenty. */
  max: 64,
});

/** The pause after a 429 that carries no usable `Retry-After`. */
export const DEFAULT_THROTTLE_PAUSE_MS = 1000;

export interface TaskSlot {
  /** The API accepted the task this slot was taken for (an `auto` limit grows). Counted once. */
  accepted(): void;
  /** Gives the slot back: the task is terminal, or its submit failed. Idempotent. */
  release(): void;
}

export interface TaskSlots {
  /** Waits for a free slot (and past any `Retry-After` pause); rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<TaskSlot>;
  /**
   * The submit `slot` was taken for was answered 429: gives the slot back, halves an `auto` limit, pauses new
   * submits for `retryAfterMs`, and waits for a slot again, ahead of every submit that has not been sent yet.
   */
  throttled(slot: TaskSlot, retryAfterMs: number | undefined, signal?: AbortSignal): Promise<TaskSlot>;
  /** The current limit. */
  readonly limit: number;
  /** Slots held now. */
  readonly inFlight: number;
  /** 429s seen. */
  readonly throttles: number;
}

/** Time, injectable so tests can drive the pauses without waiting. */
export interface SlotClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: SlotClock = {
  now: () => performance.now(),
  // Not unref'd: a submit waiting out a Retry-After may be the only work left, and the process must wait for it.
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Waiter {
  resolve: (slot: TaskSlot) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface HeldSlot extends TaskSlot {
  /** The halving round the slot was taken in. */
  readonly round: number;
  released: boolean;
}

export function createTaskSlots(setting: ConcurrencySetting, clock: SlotClock = realClock): TaskSlots {
  const auto = setting === "auto";
  let limit = auto ? AUTO_CONCURRENCY.initial : setting;
  let slowStart = auto;
  /** Accepted submits since the limit last grew by one, after the first 429. */
  let acceptedSinceGrowth = 0;
  /** Bumped at every halving: a 429 to a submit sent before it belongs to the round already paid for. */
  let round = 0;
  let inFlight = 0;
  let throttles = 0;
  let pausedUntil = 0;
  let timer: unknown;
  const waiters: Waiter[] = [];

  const take = (): HeldSlot => {
    inFlight++;
    let counted = false;
    const slot: HeldSlot = {
      round,
      released: false,
      accepted() {
        if (counted) return;
        counted = true;
        if (!auto || limit >= AUTO_CONCURRENCY.max) return;
        if (slowStart) limit++;
        else if (++acceptedSinceGrowth >= limit) {
          acceptedSinceGrowth = 0;
          limit++;
        }
        pump();
      },
      release() {
        if (slot.released) return;
        slot.released = true;
        inFlight--;
        pump();
      },
    };
    return slot;
  };

  function pump(): void {
    const wait = pausedUntil - clock.now();
    if (wait > 0) {
      if (timer === undefined && waiters.length > 0) {
        timer = clock.setTimeout(() => {
          timer = undefined;
          pump();
        }, wait);
      }
      return;
    }
    while (inFlight < limit && waiters.length > 0) {
      const waiter = waiters.shift() as Waiter;
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve(take());
    }
  }

  function enqueue(signal: AbortSignal | undefined, front: boolean): Promise<TaskSlot> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (front) waiters.unshift(waiter);
      else waiters.push(waiter);
      pump();
    });
  }

  return {
    acquire: (signal) => enqueue(signal, false),
    throttled(slot, retryAfterMs, signal) {
      throttles++;
      const held = slot as HeldSlot;
      if (!held.released) {
        held.released = true;
        inFlight--;
      }
      if (auto && held.round === round) {
        limit = Math.max(1, Math.floor(limit / 2));
        slowStart = false;
        acceptedSinceGrowth = 0;
        round++;
      }
      pausedUntil = Math.max(pausedUntil, clock.now() + (retryAfterMs ?? DEFAULT_THROTTLE_PAUSE_MS));
      if (timer !== undefined) {
        clock.clearTimeout(timer);
        timer = undefined;
      }
      return enqueue(signal, true);
    },
    get limit() {
      return limit;
    },
    get inFlight() {
      return inFlight;
    },
    get throttles() {
      return throttles;
    },
  };
}

/** The slot of one generation: taken before its submit (or resume), given back once its task is terminal. */
export interface SlotHold {
  /** Waits for a slot (after any `Retry-After` pause). */
  take(): Promise<void>;
  /** The submit was accepted. */
  accepted(): void;
  /** The submit was answered 429: wait for the slot again, at the head of the queue. */
  throttled(retryAfterMs: number | undefined): Promise<void>;
  /** Idempotent; a later `take()` holds a slot again (a re-submit). */
  release(): void;
}

/** A hold on `slots`; without slots (no limit), a 429 still waits for its `Retry-After`. */
export function holdSlot(slots: TaskSlots | undefined, signal: AbortSignal | undefined): SlotHold {
  let slot: TaskSlot | undefined;
  return {
    async take() {
      slot?.release();
      slot = await slots?.acquire(signal);
    },
    accepted: () => slot?.accepted(),
    async throttled(retryAfterMs) {
      if (slots && slot) {
        const refused = slot;
        slot = undefined;
        slot = await slots.throttled(refused, retryAfterMs, signal);
      } else await sleep(retryAfterMs ?? DEFAULT_THROTTLE_PAUSE_MS, signal);
    },
    release() {
      slot?.release();
      slot = undefined;
    },
  };
}

/**
 * Generations an engine runs at once: those holding a slot plus as many downloading and storing their results, so
 * a slot never waits on the disk or the CDN.
 */
export function pipelineWidth(setting: ConcurrencySetting): number {
  return 2 * (setting === "auto" ? AUTO_CONCURRENCY.max : setting);
}
