import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startS3Emulator } from "../../../maxapi-emulator/src/index.js";
import { estimateCost } from "../directive/models.js";
import type { DirectiveUse } from "../engine/engine-types.js";
import { GrokImageError } from "../errors.js";
import { BUCKET, type Machine, type Services, startMachine, startServices } from "./__test__/machines.js";

/*
 * Two (or three) machines, each with its own local cache, sharing one bucket of a real S3-compatible server (the
 * emulator's S3 mode, over HTTP, SigV4-checked) and one MaxAPI emulator that counts every paid submit.
 */

let services: Services;
const machines: Machine[] = [];
const machine = async (
  ...args: Parameters<typeof startMachine> extends [Services, ...infer R] ? R : never
) => {
  const m = await startMachine(services, ...args);
  machines.push(m);
  return m;
};

beforeAll(async () => {
  services = await startServices();
});
afterEach(async () => {
  await Promise.all(machines.splice(0).map((m) => m.close()));
  services.api.reset();
  services.s3.reset();
  await services.s3.setDown(false);
});
afterAll(() => services.close());

async function originalsOf(m: Machine): Promise<Map<string, Buffer>> {
  const dir = join(m.options.cacheDir, "originals");
  const names = (await readdir(dir)).filter((n) => !n.startsWith("."));
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => {
      expect(GrokImageError.isInstance(error)).toBe(true);
      return error as GrokImageError;
    },
  );

describe("read-through and write-through", () => {
  it("A pays for each generation once; B, with an empty cache and in frozen mode, pays nothing and gets the same bytes", async () => {
    const a = await machine();
    const raws = ["grok:a red fox in the snow", "grok:two kites over a hill?n=2"];
    const summary = await a.engine.prepare(a.uses(...raws));
    expect(summary.generated).toBe(2);
    expect(services.api.counters.submits).toBe(2);
    // Write-through: three originals (content-addressed) and two entries, nothing left claimed.
    expect(services.s3.listKeys(BUCKET, "site/originals/")).toHaveLength(3);
    expect(services.s3.listKeys(BUCKET, "site/entries/")).toHaveLength(2);
    expect(services.s3.listKeys(BUCKET, "site/claims/")).toEqual([]);

    const b = await machine({ options: { mode: "frozen" } });
    const uses = b.uses(...raws);
    await b.engine.plan(uses);
    expect(b.engine.refusal()).toBeUndefined();
    const images = await Promise.all(uses.map((use) => b.engine.images(use)));
    expect(images.flat()).toHaveLength(3);
    expect(services.api.counters.submits).toBe(2);
    expect(b.tasks("fetched")).toHaveLength(2);
    expect(await originalsOf(b)).toEqual(await originalsOf(a));
    const manifestA = JSON.parse(await readFile(join(a.options.cacheDir, "manifest.json"), "utf8"));
    const manifestB = JSON.parse(await readFile(join(b.options.cacheDir, "manifest.json"), "utf8"));
    expect(manifestB).toEqual(manifestA);
  });

  it("a build whose directives all hit the local cache sends the store no request", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a quiet harbour"));
    const requests = services.s3.counters.requests;
    const again = await machine({ root: a.root });
    const summary = await again.engine.prepare(again.uses("grok:a quiet harbour"));
    expect(summary.hits).toBe(1);
    await again.engine.images(again.uses("grok:a quiet harbour")[0] as never);
    expect(services.s3.counters.requests).toBe(requests);
  });

  it("a manifest kept in git with its images only in the store: a fresh clone builds from the store, in frozen mode", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a lighthouse at dusk"));
    const b = await machine({ options: { mode: "frozen" } });
    await mkdir(b.options.cacheDir, { recursive: true });
    await copyFile(join(a.options.cacheDir, "manifest.json"), join(b.options.cacheDir, "manifest.json"));
    const [use] = b.uses("grok:a lighthouse at dusk");
    const [image] = await b.engine.images(use as never);
    expect(image?.status).toBe("cached");
    expect(await readFile(image?.file as string)).toBeInstanceOf(Buffer);
    expect(b.tasks("fetched")[0]).toMatchObject({ detail: expect.stringContaining("its originals") });
    expect(b.warnings()).toEqual([]);
    expect(services.api.counters.submits).toBe(1);
  });
});

describe("pay once across machines", () => {
  it("A and B building the same misses at the same time pay once per key", async () => {
    const [a, b] = await Promise.all([machine(), machine()]);
    const raws = ["grok:a castle in fog", "grok:a castle at noon", "grok:a castle by night?n=2"];
    const [sa, sb] = await Promise.all([
      a.engine.prepare(a.uses(...raws)),
      b.engine.prepare(b.uses(...raws)),
    ]);
    expect(services.api.counters.submits).toBe(3);
    expect(sa.generated + sb.generated).toBe(3);
    expect(sa.failed + sb.failed).toBe(0);
    expect(await originalsOf(b)).toEqual(await originalsOf(a));
    expect(services.s3.listKeys(BUCKET, "site/claims/")).toEqual([]);
  });

  it("B resumes the task of a machine that stopped mid-task (claim and task id journaled, no heartbeat), paying nothing", async () => {
    const stop = new AbortController();
    const a = await machine({
      deps: {
        signal: stop.signal,
        onEvent: (event) => {
          if (event.type === "task" && event.state === "submitted") stop.abort(new Error("killed"));
        },
      },
    });
    await a.engine.prepare(a.uses("grok:a ship in a bottle"));
    expect(services.api.counters.submits).toBe(1);
    const [claim] = services.s3.listKeys(BUCKET, "site/claims/");
    const journaled = JSON.parse(services.s3.getObject(BUCKET, claim as string)?.body.toString() ?? "{}");
    expect(journaled.task.taskId).toMatch(/\S/);

    const b = await machine();
    const started = Date.now();
    const summary = await b.engine.prepare(b.uses("grok:a ship in a bottle"));
    expect(services.api.counters.submits).toBe(1);
    expect(summary).toMatchObject({ failed: 0, generated: 0 });
    expect(b.tasks("waiting")).toHaveLength(1);
    expect(b.tasks("taking over")[0]).toMatchObject({ taskId: journaled.task.taskId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const manifest = JSON.parse(await readFile(join(b.options.cacheDir, "manifest.json"), "utf8"));
    expect(Object.values(manifest)).toMatchObject([{ taskId: journaled.task.taskId }]);
    expect(services.s3.listKeys(BUCKET, "site/claims/")).toEqual([]);
    expect(services.s3.listKeys(BUCKET, "site/entries/")).toHaveLength(1);
  });
});

describe("the budget across machines", () => {
  it("a key another machine is generating costs this build's budget nothing once its image arrives", async () => {
    const a = await machine();
    const price = estimateCost((a.uses("grok:a brass lantern")[0] as DirectiveUse).directive.generation);
    // Room for two images: the lantern (which A pays for) and the kettle.
    const b = await machine({ options: { maxCost: 2 * price } });
    // Slow enough that B plans the lantern while A's task still runs: B waits for it instead of paying.
    services.api.configure({ latencyMs: 1500 });
    try {
      const aDone = a.engine.prepare(a.uses("grok:a brass lantern"));
      await vi.waitFor(() => expect(a.tasks("submitted")).toHaveLength(1), { timeout: 10_000 });
      const planned = await b.engine.prepare(b.uses("grok:a brass lantern", "grok:a copper kettle"));
      await aDone;
      expect(planned).toMatchObject({ generated: 1, failed: 0 });
      expect(b.tasks("waiting")).toHaveLength(1);
      expect(services.api.counters.submits).toBe(2);
      // What the lantern would have cost B is free again: a directive found late fits the budget.
      const late = await b.engine.prepare(b.uses("grok:a tin whistle"));
      expect(late).toMatchObject({ generated: 1, failed: 0 });
      expect(services.api.counters.submits).toBe(3);
      // And the budget still holds: a fourth image does not fit.
      await expect(b.engine.prepare(b.uses("grok:a glass marble"))).rejects.toMatchObject({
        code: "GROK_BUDGET_EXCEEDED",
      });
      expect(services.api.counters.submits).toBe(3);
    } finally {
      services.api.configure({ latencyMs: 40 });
    }
  });
});

describe("damage and failures", () => {
  it("a damaged object in the store is detected and never used; generating again replaces it", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a glass of water"));
    const [name] = services.s3.listKeys(BUCKET, "site/originals/");
    const good = services.s3.getObject(BUCKET, name as string)?.body as Buffer;
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    services.s3.putObject(BUCKET, name as string, bad);

    const b = await machine({ options: { mode: "frozen" } });
    const uses = b.uses("grok:a glass of water");
    await b.engine.plan(uses);
    expect((await rejection(b.engine.images(uses[0] as never))).code).toBe("GROK_FROZEN_MISS");
    expect(b.warnings().join("\n")).toMatch(
      /originals\/[0-9a-f]{64}\.\w+ \(for "a glass of water"\) does not match its sha256: it is not used/,
    );
    expect(await readdir(join(b.options.cacheDir, "originals"))).not.toContain(
      (name as string).split("/").pop(),
    );

    const c = await machine();
    const summary = await c.engine.prepare(c.uses("grok:a glass of water"));
    expect(summary.generated).toBe(1);
    expect(services.api.counters.submits).toBe(2);
    // The damaged entry was replaced: a fourth machine gets C's generation from the store.
    const d = await machine({ options: { mode: "frozen" } });
    const [image] = await d.engine.images(d.uses("grok:a glass of water")[0] as never);
    expect(image?.status).toBe("cached");
    expect(await originalsOf(d)).toEqual(await originalsOf(c));
  });

  it("a store that is down fails the build with GROK_REMOTE_CACHE_UNAVAILABLE and nothing is submitted", async () => {
    await services.s3.setDown(true);
    const b = await machine();
    const error = await rejection(b.engine.prepare(b.uses("grok:a storm at sea")));
    expect(error.code).toBe("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect(error.message).toMatch(
      /^The shared cache s3:\/\/team-cache\/site could not be used: GET entries\/[0-9a-f]+\.json failed \(ECONNREFUSED\)/,
    );
    expect(services.api.counters.submits).toBe(0);
  });

  it("a store that refuses the credentials says so (GROK_REMOTE_CACHE_AUTH), never shows them, and nothing is submitted", async () => {
    const secret = "wrong-secret-do-not-print-0123456789";
    const b = await machine({ env: { AWS_SECRET_ACCESS_KEY: secret } });
    const error = await rejection(b.engine.prepare(b.uses("grok:a storm at sea")));
    expect(error.code).toBe("GROK_REMOTE_CACHE_AUTH");
    expect(error.message).toContain("SignatureDoesNotMatch");
    const c = await machine({ env: { AWS_ACCESS_KEY_ID: "AKIAUNKNOWNKEY000000" } });
    expect((await rejection(c.engine.prepare(c.uses("grok:a storm at sea")))).message).toContain(
      "InvalidAccessKeyId",
    );
    expect(services.api.counters.submits).toBe(0);
    const shown = `${error.message}\n${error.hint}\n${JSON.stringify(b.options)}\n${JSON.stringify(b.events)}`;
    expect(shown).not.toContain(secret);
  });

  it("a store that ignores create-only writes still shares images, and the build says machines may pay twice", async () => {
    const lax = await startS3Emulator({ buckets: [BUCKET], ignoreConditionalWrites: true });
    try {
      const a = await machine({ env: { AWS_ENDPOINT_URL_S3: lax.url } });
      const summary = await a.engine.prepare(a.uses("grok:a lax store"));
      expect(summary.generated).toBe(1);
      expect(a.warnings().join("\n")).toContain("ignores create-only writes (If-None-Match: *)");
      expect(lax.listKeys(BUCKET, "site/entries/")).toHaveLength(1);
      expect(lax.listKeys(BUCKET, "site/claims/")).toEqual([]);
    } finally {
      await lax.close();
    }
  });

  it("placeholder mode goes on with placeholders when the store is down, and says why", async () => {
    await services.s3.setDown(true);
    const b = await machine({ options: { mode: "placeholder" } });
    const summary = await b.engine.prepare(b.uses("grok:a storm at sea"));
    expect(summary.placeholders).toBe(1);
    expect(b.warnings()[0]).toMatch(/could not be used[\s\S]*Misses are shown as placeholders/);
  });
});
