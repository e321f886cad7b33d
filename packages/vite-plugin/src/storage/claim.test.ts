import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Generation } from "../types.js";
import { type ClaimAttempt, Claims } from "./claim.js";
import { LocalStore } from "./local-store.js";

/*
 * The claim protocol on the directory store (the same conditional writes as S3, made of link() and a lock): who
 * holds a key, heartbeats, takeover of a dead holder's claim with its task, and a holder that notices it lost.
 */

const generation: Generation = {
  model: "grok-imagine/text-to-image-lite",
  tier: "lite",
  prompt: "a claimed prompt",
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
};
const TIMING = { heartbeatMs: 40, staleMs: 300 };
let dir: string;
let store: LocalStore;
const warnings: string[] = [];
const machine = () => new Claims(store, TIMING, (message) => warnings.push(message));
const held = (attempt: ClaimAttempt) => {
  if (attempt.kind !== "held") throw new Error(`expected a held claim, got ${attempt.kind}`);
  return attempt;
};
const claimBody = async () => JSON.parse((await store.get("claims/k.json"))?.body.toString() ?? "null");

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-claims-"));
  store = new LocalStore(dir, `file://${dir}`);
  warnings.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("claims", () => {
  it("one machine holds a key; another finds it busy, with the journaled task", async () => {
    const a = machine();
    const b = machine();
    const mine = held(await a.attempt("k", generation, undefined));
    expect((await b.attempt("k", generation, undefined)).kind).toBe("busy");
    await mine.claim.journal({ taskId: "task-1", submittedAt: "2026-01-01T00:00:00Z", attempt: 1 });
    expect(await b.attempt("k", generation, undefined)).toMatchObject({
      kind: "busy",
      owner: { id: a.owner.id },
      task: { taskId: "task-1" },
    });
    await mine.claim.release();
    expect(await store.get("claims/k.json")).toBeUndefined();
  });

  it("heartbeats keep a claim fresh for as long as the holder works", async () => {
    const a = machine();
    const b = machine();
    const mine = held(await a.attempt("k", generation, undefined));
    const before = (await claimBody()).beats;
    await sleep(TIMING.staleMs * 2);
    expect((await claimBody()).beats).toBeGreaterThan(before + 3);
    expect((await b.attempt("k", generation, undefined)).kind).toBe("busy");
    await mine.claim.release();
  });

  it("a claim left without heartbeats is taken over once, with the dead holder's task", async () => {
    const a = machine();
    const dead = held(await a.attempt("k", generation, { taskId: "task-9", submittedAt: "t", attempt: 1 }));
    await dead.claim.abandon();
    const b = machine();
    const c = machine();
    expect((await b.attempt("k", generation, undefined)).kind).toBe("busy");
    await sleep(TIMING.staleMs + 50);
    // The store's own clock (Last-Modified vs. the answer's time) says stale: b takes it, c must not as well.
    const [fromB, fromC] = await Promise.all([
      b.attempt("k", generation, undefined),
      c.attempt("k", generation, undefined),
    ]);
    const winners = [fromB, fromC].filter((x) => x.kind === "held");
    expect(winners).toHaveLength(1);
    const won = held(winners[0] as ClaimAttempt);
    expect(won.takenOverFrom?.id).toBe(a.owner.id);
    expect(won.claim.task).toMatchObject({ taskId: "task-9" });
    expect((await claimBody()).takenOverFrom.id).toBe(a.owner.id);
    await won.claim.release();
  });

  it("a holder whose claim was taken over notices at its next heartbeat and leaves it alone", async () => {
    const a = machine();
    const mine = held(await a.attempt("k", generation, undefined));
    // Another machine rewrites the claim behind its back (as a takeover would).
    const current = await store.get("claims/k.json");
    await store.put(
      "claims/k.json",
      Buffer.from(JSON.stringify({ ...(await claimBody()), owner: { id: "other", host: "h", pid: 1 } })),
      {
        condition: { ifMatch: current?.etag as string },
      },
    );
    await sleep(TIMING.heartbeatMs * 3);
    expect(mine.claim.lost).toBe(true);
    await mine.claim.release();
    expect((await claimBody()).owner.id).toBe("other");
  });

  it("recognises its own claim when a create-only write was retried after its answer was lost", async () => {
    const a = machine();
    const first = held(await a.attempt("k", generation, undefined));
    await first.claim.abandon();
    expect((await a.attempt("k", generation, undefined)).kind).toBe("held");
  });
});
