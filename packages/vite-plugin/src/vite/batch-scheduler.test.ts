import { describe, expect, it } from "vitest";
import { parseDirective } from "../directive/parse-directive.js";
import type { DirectiveUse } from "../engine/engine-types.js";
import { resolveOptions } from "../options/resolve-options.js";
import { createBatchScheduler } from "./batch-scheduler.js";

const options = resolveOptions({ mode: "generate" }, { root: "/project", env: {}, command: "build" });

function use(prompt: string, importer = "/project/src/main.ts"): DirectiveUse {
  return { directive: parseDirective(`grok:${prompt}`, options), importer };
}

/** A scheduler whose batches are recorded and settle when the test says so. */
function recorded() {
  const batches: string[][] = [];
  const gates: PromiseWithResolvers<void>[] = [];
  const scheduler = createBatchScheduler(
    (uses) => {
      batches.push(uses.map((u) => `${u.directive.raw} <- ${u.importer}`));
      const gate = Promise.withResolvers<void>();
      gates.push(gate);
      return gate.promise;
    },
    { quietMs: 1, maxMs: 1000 },
  );
  return { scheduler, batches, gates };
}

describe("createBatchScheduler", () => {
  it("plans nothing until a module waits, then every use recorded so far as one batch", async () => {
    const { scheduler, batches, gates } = recorded();
    scheduler.record(use("a red door"));
    scheduler.record(use("a blue door"));
    scheduler.record(use("a red door", "/project/src/other.ts"));
    expect(batches).toEqual([]);
    const ready = scheduler.ready(use("a red door"));
    await until(() => batches.length === 1);
    gates[0]?.resolve();
    await ready;
    expect(batches).toEqual([
      [
        "grok:a red door <- /project/src/main.ts",
        "grok:a blue door <- /project/src/main.ts",
        "grok:a red door <- /project/src/other.ts",
      ],
    ]);
  });

  it("a use recorded after its batch ran forms a later batch; a planned one is never planned again", async () => {
    const { scheduler, batches, gates } = recorded();
    const first = scheduler.ready(use("a red door"));
    await until(() => batches.length === 1);
    scheduler.record(use("a late lantern"));
    scheduler.record(use("a red door", "/project/src/late.ts"));
    const late = scheduler.ready(use("a late lantern"));
    await until(() => batches.length === 2);
    for (const gate of gates) gate.resolve();
    await Promise.all([first, late, scheduler.ready(use("a red door"))]);
    expect(batches).toEqual([
      ["grok:a red door <- /project/src/main.ts"],
      ["grok:a late lantern <- /project/src/main.ts"],
    ]);
  });

  it("every module of a refused batch gets the batch's error", async () => {
    const { scheduler, batches, gates } = recorded();
    scheduler.record(use("a red door"));
    const waits = [scheduler.ready(use("a red door")), scheduler.ready(use("a blue door"))];
    await until(() => batches.length === 1);
    const refusal = new Error("over budget");
    gates[0]?.reject(refusal);
    for (const wait of waits) await expect(wait).rejects.toBe(refusal);
    await expect(scheduler.ready(use("a blue door"))).rejects.toBe(refusal);
  });

  it("stopping drops an open window without running it", async () => {
    const scheduler = createBatchScheduler(
      () => {
        throw new Error("a stopped scheduler must not run a batch");
      },
      { quietMs: 60_000, maxMs: 60_000 },
    );
    const waiting = scheduler.ready(use("a red door"));
    const closed = new Error("closed");
    await scheduler.stop(closed);
    await expect(waiting).rejects.toBe(closed);
  });
});

/** Yields to the event loop until `condition` holds (the scheduler's timers fire in between). */
function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setImmediate(check));
    check();
  });
}
