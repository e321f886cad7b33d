import { randomBytes } from "node:crypto";
import { open, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Emulator } from "maxapi-emulator";
import { build, type InlineConfig } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CapturedLogger, captureLogger } from "../helpers/capture-logger.js";
import { hashFiles } from "../helpers/dist-files.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * A cached build answers each directive its modules import from the record of what the last build loaded it as
 * (`.grok-images/locks/hit-record.json`), while the manifest, the options and every file hold: no parse, no
 * manifest read. Whatever no longer holds is answered in full, so the record never ships a stale image.
 */

const MAIN = `import forest from "grok:a misty forest at dawn?w=200";
import sameForest from "grok:a misty forest at dawn?format=webp&w=200";
import { images as kites } from "grok:two red kites over a hill?n=2&w=120&h=90&format=png";

for (const image of [forest, sameForest, ...kites]) {
  const img = document.createElement("img");
  img.src = image.src;
  img.alt = image.prompt;
  document.body.append(img);
}
`;

let emulator: Emulator;
let project: TempProject;

function config(outDir: string, logger: CapturedLogger, options: GrokImageOptions = {}): InlineConfig {
  return {
    root: project.resolve(),
    configFile: false,
    logLevel: "silent",
    customLogger: logger,
    plugins: [grokImage(grokTestOptions(emulator, options))],
    build: { outDir, emptyOutDir: true },
  };
}

const recordFile = () => project.resolve(".grok-images", "locks", "hit-record.json");
const manifestFile = () => project.resolve(".grok-images", "manifest.json");
const bundleText = async (outDir: string) => {
  const assets = project.resolve(outDir, "assets");
  const scripts = (await readdir(assets)).filter((file) => file.endsWith(".js"));
  return (await Promise.all(scripts.map((file) => readFile(path.join(assets, file), "utf8")))).join("\n");
};
/** An entry of the record: after its header, a line `kind TAB "name" TAB second TAB rest` each. */
interface Entry {
  kind: string;
  name: string;
  second: string;
  rest: unknown[];
}
const readRecord = async () => {
  const [header, ...lines] = (await readFile(recordFile(), "utf8")).trimEnd().split("\n");
  const entries = lines.map((line): Entry => {
    const [kind, name, second, rest] = line.split("\t") as [string, string, string, string];
    return { kind, name: JSON.parse(name), second, rest: JSON.parse(rest) };
  });
  return { header: header as string, entries };
};
const writeRecord = ({ header, entries }: { header: string; entries: Entry[] }) => {
  const lines = entries.map(({ kind, name, second, rest }) =>
    [kind, JSON.stringify(name), second, JSON.stringify(rest)].join("\t"),
  );
  return writeFile(recordFile(), `${[header, ...lines].join("\n")}\n`);
};
const recordedRaws = async () =>
  (await readRecord()).entries
    .filter(({ kind }) => kind === "h")
    .map(({ name }) => name)
    .sort();

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-basic");
  await writeFile(project.resolve("src", "main.ts"), MAIN);
  // The cold build: generated, derived, and (as the build closes) verified.
  await build(config("dist-cold", captureLogger()));
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("the hit record", () => {
  it("is left by a cached build, and answers the next one without reading the manifest", async () => {
    // Whole seconds, so the manifest's identity can be put back exactly after it is garbled below.
    const seconds = Math.floor(Date.now() / 1000) - 60;
    await utimes(manifestFile(), seconds, seconds);
    await build(config("dist-cached", captureLogger()));
    expect(await recordedRaws()).toEqual([
      "grok:a misty forest at dawn?format=webp&w=200",
      "grok:a misty forest at dawn?w=200",
      "grok:two red kites over a hill?n=2&w=120&h=90&format=png",
    ]);

    // Garbled in place: same inode, size and times. Only a build that never reads the manifest can pass now.
    const text = await readFile(manifestFile(), "utf8");
    const handle = await open(manifestFile(), "r+");
    await handle.write(`{${"x".repeat(Buffer.byteLength(text) - 1)}`, 0);
    await handle.close();
    await utimes(manifestFile(), seconds, seconds);
    const submits = emulator.counters.submits;
    const logger = captureLogger();
    await build(config("dist-recorded", logger));
    expect(emulator.counters.submits).toBe(submits);
    expect(await hashFiles(project.resolve("dist-recorded"))).toEqual(
      await hashFiles(project.resolve("dist-cached")),
    );
    expect(logger.infos.join("\n")).toContain("3 directives · 3 cached · 0 generated");

    // The manifest as it was, with a new identity: the record no longer holds, and the build reads it again.
    await writeFile(manifestFile(), text);
    await build(config("dist-reread", captureLogger()));
    expect(await hashFiles(project.resolve("dist-reread"))).toEqual(
      await hashFiles(project.resolve("dist-cached")),
    );
  });

  it("rewrites a module that comes back unchanged as the last build did, and reads it afresh once it changed", async () => {
    await build(config("dist-modules", captureLogger()));
    const stored = await readRecord();
    const main = stored.entries.find(({ kind, name }) => kind === "m" && name.endsWith("/src/main.ts"));
    const [raws, splices] = (main?.rest ?? []) as [string[], [number, number, string][]];
    expect(raws.sort()).toEqual(await recordedRaws());
    expect(splices).toHaveLength(3);

    // The record's rewrite is what the next build ships: the module is not read for its imports again. (A rewrite
    // marked by hand shows it; nothing else could put the mark into the bundle.)
    const splice = splices[0] as [number, number, string];
    splice[2] = splice[2].replace(/"index":0/, '"index":0,"recordedRewrite":true');
    await writeRecord(stored);
    await build(config("dist-marked", captureLogger()));
    expect(await bundleText("dist-marked")).toContain("recordedRewrite");

    // Edited, the module is read and rewritten afresh, and recorded so.
    await writeFile(project.resolve("src", "main.ts"), `${MAIN}\nconsole.log("edited");\n`);
    await build(config("dist-edited", captureLogger()));
    const edited = await bundleText("dist-edited");
    expect(edited).not.toContain("recordedRewrite");
    expect(edited).toContain("edited");
    await writeFile(project.resolve("src", "main.ts"), MAIN);
    await build(config("dist-restored", captureLogger()));
    expect(await hashFiles(project.resolve("dist-restored"))).toEqual(
      await hashFiles(project.resolve("dist-modules")),
    );
  });

  it("plans a source file that kept its identity from what the last scan found in it, and reads a changed one", async () => {
    // A file is recorded only when read a moment after its last change (50 ms here): the test before this one wrote
    // main.ts, and cached builds of it take less than that.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await build(config("dist-scanned", captureLogger()));
    const stored = await readRecord();
    const main = stored.entries.find(({ kind, name }) => kind === "s" && name.endsWith("/src/main.ts"));
    const found = (main?.rest[0] ?? []) as [string, number, string?][];
    expect(found.map(([raw]) => raw).sort()).toEqual(await recordedRaws());

    // Only the record can put this directive before the plan: main.ts is not read while it keeps its identity.
    found.push(["grok:a red door?tier=ultra", 0]);
    await writeRecord(stored);
    const failed = await build(config("dist-stale", captureLogger())).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failed?.message).toMatch(/src[\\/]main\.ts:1:1/);
    expect(failed?.message).toContain("ultra");

    // Written anew (the same text, a new identity), main.ts is read again: the build plans what it holds.
    await writeFile(project.resolve("src", "main.ts"), MAIN);
    const logger = captureLogger();
    await build(config("dist-rescanned", logger));
    expect(logger.infos.join("\n")).toContain("3 directives · 3 cached · 0 generated");
    expect(await hashFiles(project.resolve("dist-rescanned"))).toEqual(
      await hashFiles(project.resolve("dist-scanned")),
    );
  });

  it("never serves a variant whose file changed: it is derived again", async () => {
    await build(config("dist-before", captureLogger()));
    const variants = project.resolve(".grok-images", "variants");
    const [name] = (await readdir(variants)).filter((file) => !file.endsWith(".json")).sort();
    const file = path.join(variants, name as string);
    const intact = await readFile(file);
    await writeFile(file, randomBytes(intact.length));
    const logger = captureLogger();
    await build(config("dist-after", logger));
    expect(await readFile(file)).toEqual(intact);
    expect(await hashFiles(project.resolve("dist-after"))).toEqual(
      await hashFiles(project.resolve("dist-before")),
    );
    // Said by the full check, which the record left it to.
    expect(logger.warnings.join("\n")).toContain(`${name} of grok:`);
  });

  it("is not used by a build whose options change its images", async () => {
    await build(config("dist-q80", captureLogger()));
    const before = await stat(recordFile());
    await build(config("dist-q50", captureLogger(), { quality: 50 }));
    const q80 = Object.values(await hashFiles(project.resolve("dist-q80"))).sort();
    const q50 = Object.values(await hashFiles(project.resolve("dist-q50"))).sort();
    // The webp and png of quality 50 are new variants, not the recorded ones.
    expect(q50).not.toEqual(q80);
    expect((await stat(recordFile())).mtimeMs).not.toBe(before.mtimeMs);
  });
});
