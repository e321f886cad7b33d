import { statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDirective } from "../directive/parse-directive.js";
import type { ReadyImage } from "../engine/engine-types.js";
import { resolveOptions } from "../options/resolve-options.js";
import { fileIdentity } from "../shared/file-identity.js";
import { HitRecord, hitContext } from "./hit-record.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-hit-record-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = () => resolveOptions({}, { root: dir, env: {}, command: "build" });
const STAMP = "11:222:3333";

/** A variant file, its image as the engine gives it, and the identity it was verified with. */
async function variant(name: string, raw: string) {
  const file = join(dir, `${name}.webp`);
  await writeFile(file, `bytes of ${name}`);
  const directive = parseDirective(raw, options());
  const image: ReadyImage = {
    file,
    width: 64,
    height: 32,
    format: "webp",
    prompt: directive.generation.prompt,
    model: directive.generation.model,
    index: 0,
    status: "cached",
    placeholder: "#336699",
  };
  return { file, directive, image, identities: new Map([[file, fileIdentity(statSync(file))]]) };
}

/** A record of two directives, written. */
async function twoRecorded() {
  const file = join(dir, "hit-record.json");
  const context = hitContext(options());
  const a = await variant("a", "grok:a red door");
  const b = await variant("b", "grok:a paper boat");
  const first = await HitRecord.read(file, context, STAMP);
  first.remember(a.directive, [a.image], a.identities);
  first.remember(b.directive, [b.image], b.identities);
  await first.save(STAMP);
  return { file, context, a, b };
}

describe("HitRecord", () => {
  it("gives a recorded directive's images back to the next build while its manifest, options and files hold", async () => {
    const file = join(dir, "hit-record.json");
    const context = hitContext(options());
    const a = await variant("a", "grok:a red door?alt=The door&pick=1");
    const first = await HitRecord.read(file, context, STAMP);
    expect(first.hit(a.directive.raw)).toBeUndefined();
    first.remember(a.directive, [a.image], a.identities);
    await first.save(STAMP);

    const next = await HitRecord.read(file, context, STAMP);
    expect(next.keyOf(a.directive.raw)).toBe(a.directive.generationKey);
    expect(next.holds(a.directive.generationKey)).toBe(true);
    expect(next.hit(a.directive.raw)).toEqual({
      key: a.directive.generationKey,
      handoff: "encoded",
      alt: "The door",
      pick: 1,
      as: "metadata",
      images: [a.image],
    });

    // Another manifest, or other options: nothing holds.
    expect((await HitRecord.read(file, context, "11:222:4444")).keyOf(a.directive.raw)).toBeUndefined();
    const otherOptions = resolveOptions({ quality: 50 }, { root: dir, env: {}, command: "build" });
    expect(hitContext(otherOptions)).not.toBe(context);
    expect(
      (await HitRecord.read(file, hitContext(otherOptions), STAMP)).keyOf(a.directive.raw),
    ).toBeUndefined();
    // Options that change no image (the mode, the API) keep it.
    const frozen = resolveOptions(
      { mode: "frozen", baseUrl: "http://127.0.0.1:9" },
      { root: dir, env: {}, command: "build" },
    );
    expect(hitContext(frozen)).toBe(context);
  });

  it("forgets a directive whose file changed, and writes the record without it", async () => {
    const { file, context, a, b } = await twoRecorded();

    // Same size, new bytes: the identity (times, inode) moves.
    await writeFile(a.file, "BYTES OF a");
    const next = await HitRecord.read(file, context, STAMP);
    expect(next.hit(a.directive.raw)).toBeUndefined();
    expect(next.hit(b.directive.raw)?.images).toEqual([b.image]);
    await next.save(STAMP);
    const saved = await HitRecord.read(file, context, STAMP);
    expect(saved.keyOf(a.directive.raw)).toBeUndefined();
    expect(saved.keyOf(b.directive.raw)).toBe(b.directive.generationKey);
  });

  it("checks a build's entries once, ahead of their use, and forgets those whose files changed", async () => {
    const { file, context, a, b } = await twoRecorded();
    await writeFile(a.file, "BYTES OF a");
    const next = await HitRecord.read(file, context, STAMP);
    next.check([a.directive.raw, b.directive.raw, "grok:never recorded"]);
    expect(next.keyOf(a.directive.raw)).toBeUndefined();
    // Checked once a build: a file that changes after the check is the next build's to find.
    await writeFile(b.file, "BYTES OF b");
    expect(next.hit(b.directive.raw)?.images).toEqual([b.image]);
    await next.save(STAMP);
    const after = await HitRecord.read(file, context, STAMP);
    expect(after.keyOf(a.directive.raw)).toBeUndefined();
    expect(after.hit(b.directive.raw)).toBeUndefined();
  });

  it("loses only the entry of a damaged line, and holds directives whose names need escaping", async () => {
    const { file, context, a, b } = await twoRecorded();
    const tabbed = await variant("c", 'grok:a "quoted"\tdoor\\with a backslash');
    const adding = await HitRecord.read(file, context, STAMP);
    adding.remember(tabbed.directive, [tabbed.image], tabbed.identities);
    await adding.save(STAMP);
    const lines = (await readFile(file, "utf8")).split("\n");
    // `a`'s line cut short, as a torn write of an older tool might leave it: its entry is gone, not misread.
    const at = lines.findIndex((line) => line.includes(JSON.stringify(a.directive.raw)));
    lines[at] = (lines[at] as string).slice(0, -20);
    lines.splice(1, 0, "garbage", "h\tnot json\tkey\t[]", "");
    await writeFile(file, lines.join("\n"));

    const next = await HitRecord.read(file, context, STAMP);
    expect(next.keyOf(a.directive.raw)).toBe(a.directive.generationKey);
    expect(next.hit(a.directive.raw)).toBeUndefined();
    expect(next.hit(b.directive.raw)?.images).toEqual([b.image]);
    expect(next.hit(tabbed.directive.raw)?.images).toEqual([tabbed.image]);
    await next.save(STAMP);
    const after = await HitRecord.read(file, context, STAMP);
    expect(after.keyOf(a.directive.raw)).toBeUndefined();
    expect(after.keyOf(tabbed.directive.raw)).toBe(tabbed.directive.generationKey);
    expect((await readFile(file, "utf8")).split("\n").filter((line) => line.startsWith("h\t"))).toHaveLength(
      2,
    );
  });

  it("keeps what a build did not load, drops a generation the build changed, and writes nothing new twice", async () => {
    const { file, context, a, b } = await twoRecorded();
    const written = (await stat(file)).mtimeMs;

    // A build that loads only `a`, with nothing changed, leaves the file as it is.
    const partial = await HitRecord.read(file, context, STAMP);
    expect(partial.hit(a.directive.raw)).toBeDefined();
    await partial.save(STAMP);
    expect((await stat(file)).mtimeMs).toBe(written);
    expect((await HitRecord.read(file, context, STAMP)).keyOf(b.directive.raw)).toBe(
      b.directive.generationKey,
    );

    // A build that generated `b` again (a repaired original) leaves it out.
    const repaired = await HitRecord.read(file, context, STAMP);
    repaired.forget((key) => key === b.directive.generationKey);
    await repaired.save(STAMP);
    const after = await HitRecord.read(file, context, STAMP);
    expect(after.keyOf(a.directive.raw)).toBe(a.directive.generationKey);
    expect(after.keyOf(b.directive.raw)).toBeUndefined();
  });

  it("keeps what the scan found in each source file by its identity, and only the files this build's scan listed", async () => {
    const { file, context } = await twoRecorded();
    const page = join(dir, "page.astro");
    const found = [
      { raw: "grok:a red door", index: 40 },
      { raw: "grok:a%20paper%20boat", index: 90, written: "grok:a paper boat" },
    ];
    const scanning = await HitRecord.read(file, context, STAMP);
    scanning.sources.set(page, "1:2:3:4:5", { found, leaving: ["/elsewhere/shared.js"] });
    scanning.sources.set(join(dir, "gone.ts"), "6:7:8:9:10", { found: [], leaving: [] });
    await scanning.save(STAMP);

    const next = await HitRecord.read(file, context, STAMP);
    expect(next.sources.get(page, "1:2:3:4:5")).toEqual({ found, leaving: ["/elsewhere/shared.js"] });
    // Another identity: the file changed since, and is read again.
    expect(next.sources.get(page, "1:2:3:4:6")).toBeUndefined();
    // This build's scan did not list gone.ts: the next write leaves it out.
    next.sources.set(join(dir, "new.ts"), "11:12:13:14:15", { found: [], leaving: [] });
    await next.save(STAMP);
    const after = await HitRecord.read(file, context, STAMP);
    expect(after.sources.get(join(dir, "gone.ts"), "6:7:8:9:10")).toBeUndefined();
    expect(after.sources.get(page, "1:2:3:4:5")?.found).toEqual(found);
    expect(after.sources.get(join(dir, "new.ts"), "11:12:13:14:15")).toEqual({ found: [], leaving: [] });

    // Made with another manifest, the record holds nothing, sources included.
    expect((await HitRecord.read(file, context, "other")).sources.get(page, "1:2:3:4:5")).toBeUndefined();
  });

  it("records nothing for an image whose file has no verified identity, and holds no key or option value", async () => {
    const file = join(dir, "hit-record.json");
    const keyed = resolveOptions(
      {},
      { root: dir, env: { MAXAPI_KEY: "secret-key-value" }, command: "build" },
    );
    const context = hitContext(keyed);
    expect(context).toBe(hitContext(options()));
    const a = await variant("a", "grok:a red door");
    const record = await HitRecord.read(file, context, STAMP);
    record.remember(a.directive, [a.image], new Map());
    await record.save(STAMP);
    expect((await HitRecord.read(file, context, STAMP)).keyOf(a.directive.raw)).toBeUndefined();

    record.remember(a.directive, [a.image], a.identities);
    await record.save(STAMP);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("secret-key-value");
    // The options are in it as a hash only.
    expect(text).not.toContain('"quality"');
  });

  describe("modules", () => {
    const SPLICES = [[0, 30, "const door = 1;"]] as const;
    const CODE = 'import door from "grok:a red door";\nexport default door;\n';
    /** The module's file: a module whose file is gone is not written. */
    const page = () => join(dir, "src", "page.astro");
    const putPage = async () => {
      await mkdir(join(dir, "src"), { recursive: true });
      await writeFile(page(), CODE);
    };

    /** The record of `twoRecorded`, with a module that imports both directives, written. */
    async function withModule() {
      const recorded = await twoRecorded();
      const { file, context, a, b } = recorded;
      await putPage();
      const record = await HitRecord.read(file, context, STAMP);
      expect(record.hit(a.directive.raw)).toBeDefined();
      expect(record.hit(b.directive.raw)).toBeDefined();
      record.rememberModule(page(), "hash-1", [a.directive.raw, b.directive.raw], SPLICES);
      await record.save(STAMP);
      return recorded;
    }

    it("gives a module's rewrite back while its code and every directive it imports hold", async () => {
      const { file, context, a, b } = await withModule();
      const written = (await stat(file)).mtimeMs;
      const next = await HitRecord.read(file, context, STAMP);
      expect(next.module(page(), "hash-2", CODE)).toBeUndefined();
      expect(next.module("/src/other.astro", "hash-1", CODE)).toBeUndefined();
      expect(next.module(page(), "hash-1", CODE)).toEqual({
        code: `const door = 1;${CODE.slice(30)}`,
        directives: [
          { raw: a.directive.raw, key: a.directive.generationKey, handoff: "encoded", as: "metadata" },
          { raw: b.directive.raw, key: b.directive.generationKey, handoff: "encoded", as: "metadata" },
        ],
      });
      // Answered, and remembered again as it was: nothing to write.
      next.rememberModule(page(), "hash-1", [a.directive.raw, b.directive.raw], SPLICES);
      await next.save(STAMP);
      expect((await stat(file)).mtimeMs).toBe(written);
    });

    it("is answered from entries checked ahead, as from entries checked as it asks", async () => {
      const { file, context, a, b } = await withModule();
      const next = await HitRecord.read(file, context, STAMP);
      next.check([a.directive.raw, b.directive.raw]);
      expect(next.module(page(), "hash-1", CODE)?.directives).toEqual([
        { raw: a.directive.raw, key: a.directive.generationKey, handoff: "encoded", as: "metadata" },
        { raw: b.directive.raw, key: b.directive.generationKey, handoff: "encoded", as: "metadata" },
      ]);
    });

    it("is not answered once a file of one of its directives changed, and is written without it", async () => {
      const { file, context, a, b } = await withModule();
      await writeFile(b.file, "BYTES OF b");
      const next = await HitRecord.read(file, context, STAMP);
      expect(next.module(page(), "hash-1", CODE)).toBeUndefined();
      expect(next.hit(a.directive.raw)).toBeDefined();
      await next.save(STAMP);
      const saved = (await readFile(file, "utf8")).split("\n");
      expect(saved.filter((line) => line.startsWith("m\t"))).toEqual([]);
      expect(saved.filter((line) => line.startsWith("h\t"))).toHaveLength(1);
    });

    it("is not answered once a directive it imports was recorded anew, nor kept with it", async () => {
      const { file, context, a, b } = await withModule();
      const next = await HitRecord.read(file, context, STAMP);
      // `a` loaded again with other images (a repaired variant): the module was written from the old ones.
      const redone = await variant("a2", a.directive.raw);
      next.remember(a.directive, [redone.image], redone.identities);
      expect(next.module(page(), "hash-1", CODE)).toBeUndefined();
      await next.save(STAMP);
      const saved = await HitRecord.read(file, context, STAMP);
      expect(saved.module(page(), "hash-1", CODE)).toBeUndefined();

      // Nor is one whose directive the build generated again (forgotten as the build closes).
      const again = await withModule();
      const repaired = await HitRecord.read(again.file, again.context, STAMP);
      repaired.forget((key) => key === b.directive.generationKey);
      await repaired.save(STAMP);
      expect(
        (await HitRecord.read(again.file, again.context, STAMP)).module(page(), "hash-1", CODE),
      ).toBeUndefined();
    });

    it("is written only while its file is there, or when it names no file", async () => {
      const { file, context, a } = await twoRecorded();
      await putPage();
      const record = await HitRecord.read(file, context, STAMP);
      expect(record.hit(a.directive.raw)).toBeDefined();
      for (const id of [page(), `${page()}?astro&type=script&index=0`, "\0virtual:gallery"])
        record.rememberModule(id, "hash-1", [a.directive.raw], SPLICES);
      await record.save(STAMP);
      const kept = await HitRecord.read(file, context, STAMP);
      expect(kept.module(page(), "hash-1", CODE)).toBeDefined();

      // The page deleted, the next write leaves out both of its modules; the virtual one stays.
      await rm(page());
      kept.rememberModule("\0virtual:another", "hash-2", [a.directive.raw], SPLICES);
      await kept.save(STAMP);
      const after = await HitRecord.read(file, context, STAMP);
      expect(after.module(page(), "hash-1", CODE)).toBeUndefined();
      expect(after.module(`${page()}?astro&type=script&index=0`, "hash-1", CODE)).toBeUndefined();
      expect(after.module("\0virtual:gallery", "hash-1", CODE)).toBeDefined();
    });

    it("records a module only when every directive it imports was answered from the record or recorded", async () => {
      const { file, context, a, b } = await twoRecorded();
      await putPage();
      const record = await HitRecord.read(file, context, STAMP);
      expect(record.hit(a.directive.raw)).toBeDefined();
      // `b` was not loaded by this build (generated, refused, or kept as an import): no rewrite to trust.
      record.rememberModule(page(), "hash-1", [a.directive.raw, b.directive.raw], SPLICES);
      await record.save(STAMP);
      expect((await HitRecord.read(file, context, STAMP)).module(page(), "hash-1", CODE)).toBeUndefined();
    });
  });
});
