import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Generation } from "../types.js";
import type { ObjectStore, StoredObject, WriteCondition } from "./object-store.js";
import { claimName } from "./remote-layout.js";

/*
 * Pay once across machines: before a submit, a machine claims the generation key with a create-only write of
 * `claims/<key>.json` (S3 `If-None-Match: *`; 412 means another machine holds it). The holder journals the task id
 * in the claim as soon as MaxAPI accepts the submit, and rewrites the claim every `heartbeatMs` (S3 `If-Match`,
 * so a holder that lost the claim notices). The others wait for the entry to appear. A claim not rewritten for
 * `staleMs` belongs to a machine that died: one waiter takes it over with `If-Match` on the version it saw (only
 * one can win) and resumes the journaled task id, which costs nothing. Ages are measured on the store's clock
 * (`Date` minus `Last-Modified` of one answer) and, as a fallback, by how long this machine has seen the same
 * version: no machine's clock is compared with another's.
 *
 * The one window this cannot close is the API's: between MaxAPI accepting a submit and the task id reaching the
 * claim, a machine that dies leaves a claim without a task, and the machine that takes it over pays again (MaxAPI
 * has no idempotency key). The local `pending/` journal has the same window.
 */

const CLAIM_SCHEMA = "grok-image/claim/1";

export interface ClaimOwner {
  /** Unique per process. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

/** A submitted task, as journaled in a claim. */
export interface ClaimTask {
  readonly taskId: string;
  readonly submittedAt: string;
  readonly attempt: number;
}

interface ClaimBody {
  readonly schema: typeof CLAIM_SCHEMA;
  readonly key: string;
  readonly owner: ClaimOwner;
  /** ISO-8601, the holder's clock: for people reading the object. */
  readonly claimedAt: string;
  /** Rewritten by every heartbeat, so each version differs. */
  readonly beats: number;
  readonly task: ClaimTask | null;
  readonly prompt: string;
  readonly model: string;
  readonly takenOverFrom?: ClaimOwner;
}

export interface ClaimTiming {
  /** How often the holder rewrites its claim. */
  readonly heartbeatMs: number;
  /** A claim not rewritten for this long is taken over. */
  readonly staleMs: number;
}

export type ClaimAttempt =
  | { readonly kind: "held"; readonly claim: HeldClaim; readonly takenOverFrom: ClaimOwner | undefined }
  | { readonly kind: "busy"; readonly owner: ClaimOwner; readonly task: ClaimTask | null }
  /** Another machine wrote between our read and our write: look again at once. */
  | { readonly kind: "raced" };

export function newOwner(): ClaimOwner {
  return { id: randomBytes(8).toString("hex"), host: hostname(), pid: process.pid };
}

function parseClaim(body: Buffer): ClaimBody | undefined {
  try {
    const value = JSON.parse(body.toString("utf8")) as ClaimBody;
    if (value?.schema === CLAIM_SCHEMA && typeof value.owner?.id === "string") return value;
  } catch {}
  return undefined;
}

function encode(body: ClaimBody): Buffer {
  return Buffer.from(`${JSON.stringify(body, null, 2)}\n`);
}

/** Claims of one process, with what it has seen of other machines' claims. */
export class Claims {
  readonly owner: ClaimOwner;
  readonly #store: ObjectStore;
  readonly #timing: ClaimTiming;
  readonly #warn: (message: string) => void;
  /** The version of each claim seen, and since when (this process's monotonic clock). */
  readonly #seen = new Map<string, { etag: string; since: number }>();

  constructor(store: ObjectStore, timing: ClaimTiming, warn: (message: string) => void, owner = newOwner()) {
    this.#store = store;
    this.#timing = timing;
    this.#warn = warn;
    this.owner = owner;
  }

  /**
   * One attempt at holding the claim of `key`. A held claim carries the task its previous holder journaled (to be
   * resumed, not paid again), or `task` when this machine already has one for the key.
   */
  async attempt(
    key: string,
    generation: Generation,
    task: ClaimTask | undefined,
    signal?: AbortSignal,
  ): Promise<ClaimAttempt> {
    const found = await this.#store.get(claimName(key), { signal });
    if (!found) {
      const held = await this.#write(key, generation, task ?? null, { ifNoneMatch: "*" }, signal);
      return held ? { kind: "held", claim: held, takenOverFrom: undefined } : { kind: "raced" };
    }
    const claim = parseClaim(found.body);
    // Our own claim: a create-only write whose answer was lost and that was retried (412 on the retry).
    if (claim?.owner.id === this.owner.id) {
      return { kind: "held", claim: this.#hold(key, found.etag, claim), takenOverFrom: undefined };
    }
    if (!this.#isStale(key, found)) {
      return {
        kind: "busy",
        owner: claim?.owner ?? { id: "?", host: "unknown", pid: 0 },
        task: claim?.task ?? null,
      };
    }
    // The dead holder's task is what we resume; ours (a local journal) only when it had none.
    const held = await this.#write(
      key,
      generation,
      claim?.task ?? task ?? null,
      { ifMatch: found.etag },
      signal,
      claim?.owner,
    );
    if (!held) return { kind: "raced" };
    this.#seen.delete(key);
    return { kind: "held", claim: held, takenOverFrom: claim?.owner };
  }

  /**
   * Writes a new claim of `key` by this process, on `condition` (create-only, or over the stale claim read): the
   * claim now held, or undefined when another machine wrote first.
   */
  async #write(
    key: string,
    generation: Generation,
    task: ClaimTask | null,
    condition: WriteCondition,
    signal: AbortSignal | undefined,
    takenOverFrom?: ClaimOwner,
  ): Promise<HeldClaim | undefined> {
    const body: ClaimBody = {
      schema: CLAIM_SCHEMA,
      key,
      owner: this.owner,
      claimedAt: new Date().toISOString(),
      beats: 0,
      task,
      prompt: generation.prompt,
      model: generation.model,
      ...(takenOverFrom ? { takenOverFrom } : {}),
    };
    const put = await this.#store.put(claimName(key), encode(body), {
      condition,
      contentType: "application/json",
      signal,
    });
    return put.ok ? this.#hold(key, put.etag, body) : undefined;
  }

  #isStale(key: string, found: StoredObject): boolean {
    const now = performance.now();
    const seen = this.#seen.get(key);
    if (!seen || seen.etag !== found.etag) this.#seen.set(key, { etag: found.etag, since: now });
    const watched = now - (this.#seen.get(key)?.since ?? now);
    const { lastModified, storeTime } = found;
    // Last-Modified and Date have one-second resolution: an age on the store's clock may read up to 1 s long.
    const age = lastModified && storeTime ? storeTime.getTime() - lastModified.getTime() : undefined;
    return (age !== undefined && age > this.#timing.staleMs) || watched > this.#timing.staleMs;
  }

  #hold(key: string, etag: string, body: ClaimBody): HeldClaim {
    return new HeldClaim(this.#store, claimName(key), etag, body, this.#timing, this.#warn);
  }
}

/** A claim this process holds: heartbeats until released or abandoned. */
export class HeldClaim {
  readonly #store: ObjectStore;
  readonly #name: string;
  readonly #warn: (message: string) => void;
  #etag: string;
  #body: ClaimBody;
  #chain: Promise<void> = Promise.resolve();
  #lost = false;
  #stopped = false;
  #warned = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    store: ObjectStore,
    name: string,
    etag: string,
    body: ClaimBody,
    timing: ClaimTiming,
    warn: (message: string) => void,
  ) {
    this.#store = store;
    this.#name = name;
    this.#etag = etag;
    this.#body = body;
    this.#warn = warn;
    this.#timer = setInterval(() => void this.#rewrite((b) => b), timing.heartbeatMs);
    // A heartbeat must not keep a finished build alive.
    this.#timer.unref();
  }

  /** The task the claim journals (a previous holder's, when this claim was taken over). */
  get task(): ClaimTask | null {
    return this.#body.task;
  }

  /** Whether another machine took the claim over (this one stopped heartbeating for too long). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Journals a submitted task, so a machine that takes the claim over resumes it instead of paying again. */
  journal(task: ClaimTask): Promise<void> {
    return this.#rewrite((b) => ({ ...b, task }));
  }

  /** Writes the next version; never throws (a holder keeps working when the store has a bad moment). */
  #rewrite(change: (body: ClaimBody) => ClaimBody): Promise<void> {
    const run = async () => {
      if (this.#lost || this.#stopped) return;
      const body = change({ ...this.#body, beats: this.#body.beats + 1 });
      try {
        const put = await this.#store.put(this.#name, encode(body), {
          condition: { ifMatch: this.#etag },
          contentType: "application/json",
        });
        if (put.ok) {
          this.#etag = put.etag;
          this.#body = body;
        } else {
          this.#lost = true;
          clearInterval(this.#timer);
        }
      } catch (error) {
        if (!this.#warned) {
          this.#warned = true;
          this.#warn(
            `Could not update the claim ${this.#name} in the shared cache (${(error as Error).message.split("\n")[0]}); going on.`,
          );
        }
      }
    };
    this.#chain = this.#chain.then(run);
    return this.#chain;
  }

  async #stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#chain;
    this.#stopped = true;
  }

  /** The key's entry is in the store (or nothing was paid): the claim goes. */
  async release(): Promise<void> {
    await this.#stop();
    if (this.#lost) return;
    await this.#store.delete(this.#name).catch(() => {
      // A claim left behind only delays the next generation of this key by `staleMs`; its entry answers first.
    });
  }

  /**
   * Stops heartbeating and leaves the claim, with its task id, for another machine to take over once it is stale
   * (an abort, a timeout, a failed upload: the task is paid and resumable).
   */
  async abandon(): Promise<void> {
    await this.#stop();
  }
}
