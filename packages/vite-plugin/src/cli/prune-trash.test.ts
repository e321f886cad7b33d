import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { trashName } from "../cache/cache-trash.js";
import { recordUsedKeys } from "../cache/used-keys.js";
import { captureIo } from "./__test__/capture-io.js";
import { runCli } from "./run-cli.js";

const KEY = "sk-prune-trash-secret-5b7c02";
const DAY = 24 * 60 * 60 * 1000;
const PAGE = [
  'import a from "grok:an amber lantern";',
  'import b from "grok:a blue heron?n=2";',
  'import c from "grok:a copper kettle";',
];

let emulator: Emulator;
let template: string;
let root: string;
const cacheDir = () => path.join(root, ".grok-images");
const trashDir = () => path.join(cacheDir(), "trash");

/** Output of a run on a terminal (stdout is a TTY) or not. */
function run(argv: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const c = captureIo(root, opts.env ?? {});
  const io = opts.tty ? { ...c.io, stdout: { write: c.io.stdout.write, isTTY: true } } : c.io;
  return runCli(argv, io).then((code) => ({ code, out: c.out, err: c.err }));
}

async function page(...lines: string[]): Promise<void> {
  await writeFile(path.join(root, "src", "page.ts"), `${lines.join("\n")}\n`);
}

async function manifest(): Promise<
  Record<string, { prompt: string; taskId: string; originals: Array<{ sha256: string }> }>
> {
  return JSON.parse(await readFile(path.join(cacheDir(), "manifest.json"), "utf8"));
}

async function keyOf(prompt: string): Promise<string> {
  const found = Object.entries(await manifest()).find(([, e]) => e.prompt === prompt);
  if (!found) throw new Error(`no entry for ${prompt}`);
  return found[0];
}

/** Every file under `dir` (the cache by default) but the trash and the per-machine locks: path -> sha256. */
async function snapshot(dir = cacheDir()): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, file).split(path.sep).join("/");
    if (rel.startsWith("trash/") || rel.startsWith("locks/")) continue;
    out[rel] = createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  }
  return out;
}

async function trashFolders(): Promise<string[]> {
  return (await readdir(trashDir()).catch(() => [] as string[])).filter((n) => !n.startsWith(".")).sort();
}

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], latencyMs: 10, imageScale: 0.2 });
  template = await mkdtemp(path.join(tmpdir(), "grok-prune-template-"));
  root = template;
  await mkdir(path.join(root, "src"));
  await page(...PAGE);
  const generated = await run(["generate"], { env: { MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url } });
  expect(generated.code, generated.err).toBe(0);
  // An orphan variant (and its sidecar) for the trash to hold as well.
  const variant = path.join(root, ".grok-images", "variants", "0123456789abcdef0123456789abcdef");
  const bytes = await sharp({ create: { width: 2, height: 2, channels: 3, background: "#345" } })
    .webp()
    .toBuffer();
  await writeFile(`${variant}.webp`, bytes);
  await writeFile(
    `${variant}.json`,
    `${JSON.stringify({ width: 2, height: 2, format: "webp", bytes: bytes.length })}\n`,
  );
});

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "grok-prune-"));
  await cp(template, root, { recursive: true });
});

afterEach(async () => {
  if (root !== template) await rm(root, { recursive: true, force: true });
});

afterAll(async () => {
  await emulator?.close();
  await rm(template, { recursive: true, force: true });
});

describe("prune keeps what builds use", () => {
  it("keeps keys a build recorded even when no directive of the tree names them", async () => {
    const [a, b, c] = [
      await keyOf("an amber lantern"),
      await keyOf("a blue heron"),
      await keyOf("a copper kettle"),
    ];
    await page(PAGE[0] as string);
    // c is built from a template literal the scan cannot read; b was recorded by another project of the cache.
    await recordUsedKeys(cacheDir(), root, [a, c], true);
    await recordUsedKeys(cacheDir(), path.join(root, "..", "other-site"), [b], true);
    const first = await run(["prune"]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain(
      "Kept 2 entries that no directive of the tree names but a build recorded using",
    );
    expect(first.out).toContain("Removed 0 entries, 0 originals and 1 orphan variant");
    expect(Object.keys(await manifest()).sort()).toEqual([a, b, c].sort());

    // The other project's next complete build no longer uses b: now it goes.
    await recordUsedKeys(cacheDir(), path.join(root, "..", "other-site"), [], true);
    const second = await run(["prune"]);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toContain(`unused   ${b.slice(0, 8)}  "a blue heron"`);
    expect(Object.keys(await manifest()).sort()).toEqual([a, c].sort());
  });

  it("a damaged used.json stops prune before anything moves", async () => {
    await page(PAGE[0] as string);
    await writeFile(path.join(cacheDir(), "used.json"), '{"version": 1, "roots": {".": [\n<<<<<<< HEAD\n');
    const before = await snapshot();
    const result = await run(["prune", "--yes"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(path.join(cacheDir(), "used.json"));
    expect(result.err).toContain("hint:");
    expect(await snapshot()).toEqual(before);
    expect(await trashFolders()).toEqual([]);
  });
});

describe("the trash", () => {
  it("prune moves what it removes to the trash; --restore brings it all back byte-identical", async () => {
    const a = await keyOf("an amber lantern");
    await recordUsedKeys(cacheDir(), root, [a], true);
    const before = await snapshot();
    const m = await manifest();
    await page(PAGE[0] as string);

    const pruned = await run(["prune", "--json"]);
    expect(pruned.code, pruned.err).toBe(0);
    const report = JSON.parse(pruned.out);
    expect(report.entries).toHaveLength(2);
    expect(report.originals).toHaveLength(3);
    const [folder] = await trashFolders();
    expect(report.trash).toBe(path.join(trashDir(), folder as string));
    expect(Object.keys(await manifest())).toEqual([a]);

    // Everything that left the cache is in the folder, under the same names, with the removed entries' record.
    const inTrash = await snapshot(path.join(trashDir(), folder as string));
    const after = await snapshot();
    for (const [rel, hash] of Object.entries(before)) {
      if (rel in after) continue;
      expect(inTrash[rel], rel).toBe(hash);
    }
    const trashed = JSON.parse(
      await readFile(path.join(trashDir(), folder as string, "manifest.json"), "utf8"),
    );
    expect(Object.keys(trashed).sort()).toEqual(
      Object.keys(m)
        .filter((k) => k !== a)
        .sort(),
    );
    for (const [key, entry] of Object.entries(trashed)) expect(entry).toEqual(m[key]);
    expect(after["variants/0123456789abcdef0123456789abcdef.webp"]).toBeUndefined();

    // The trash and used.json are not cache damage.
    const verify = await run(["verify"]);
    expect(verify.code, verify.out).toBe(0);
    expect(verify.out).not.toContain("note");

    const restored = await run(["prune", "--restore"]);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`restored ${(await keyOf("a blue heron")).slice(0, 8)}  "a blue heron"`);
    expect(restored.out).toContain(
      `restored ${(await keyOf("a copper kettle")).slice(0, 8)}  "a copper kettle"`,
    );
    expect(restored.out).toContain("Restored 2 entries, 3 originals and 1 variant");
    expect(await snapshot()).toEqual(before);
    expect(await trashFolders()).toEqual([]);
    expect((await run(["verify"])).code).toBe(0);

    const again = await run(["prune", "--restore"]);
    expect(again.code).toBe(0);
    expect(again.out).toContain("Nothing to restore");
  });

  it("--restore <time> brings back that folder (either spelling); an unknown time is a usage error", async () => {
    const [b, c] = [await keyOf("a blue heron"), await keyOf("a copper kettle")];
    await page(PAGE[0] as string, PAGE[1] as string);
    expect((await run(["prune"])).code).toBe(0);
    await page(PAGE[0] as string);
    expect((await run(["prune"])).code).toBe(0);
    const [older, newer] = await trashFolders();
    expect(newer).toBeDefined();
    expect(Object.keys(await manifest())).not.toContain(c);

    const preview = await run(["prune", "--restore", "--dry-run"]);
    expect(preview.code).toBe(0);
    expect(preview.out).toContain(`trashed  ${b.slice(0, 8)}  "a blue heron"`);
    expect(preview.out).toContain(`Would restore 1 entry, 2 originals and 0 variants from ${newer}.`);
    expect(await trashFolders()).toEqual([older, newer]);

    const iso = (older as string).replace(/T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z/, "T$1:$2:$3.$4Z");
    const restored = await run(["prune", "--restore", iso]);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`restored ${c.slice(0, 8)}`);
    expect(restored.out).not.toContain(b.slice(0, 8));
    expect(Object.keys(await manifest())).toContain(c);
    expect(Object.keys(await manifest())).not.toContain(b);
    expect(await trashFolders()).toEqual([newer]);

    const unknown = await run(["prune", "--restore", "1999-01-01T00-00-00-000Z"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("There is no trash folder 1999-01-01T00-00-00-000Z");
    expect(unknown.err).toContain(newer);
    expect(Object.keys(await manifest())).not.toContain(b);
  });

  it("keeps a trashed entry whose generation the cache holds again, and the folder with it", async () => {
    const b = await keyOf("a blue heron");
    await page(PAGE[0] as string, PAGE[2] as string);
    expect((await run(["prune"])).code).toBe(0);
    const old = (await manifest())[b];
    expect(old).toBeUndefined();
    await page(...PAGE);
    const env = { MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url };
    expect((await run(["generate"], { env })).code).toBe(0);
    const regenerated = (await manifest())[b];
    const restored = await run(["prune", "--restore"]);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`kept     ${b.slice(0, 8)}`);
    expect(restored.out).toContain("the cache holds this generation again");
    expect((await manifest())[b]).toEqual(regenerated);
    expect(await trashFolders()).toHaveLength(1);
  });

  it("each prune empties trash folders older than 30 days, and says so", async () => {
    await page(PAGE[0] as string, PAGE[1] as string);
    expect((await run(["prune"])).code).toBe(0);
    const [made] = await trashFolders();
    const old = trashName(new Date(Date.now() - 31 * DAY));
    const young = trashName(new Date(Date.now() - 29 * DAY));
    await cp(path.join(trashDir(), made as string), path.join(trashDir(), young), { recursive: true });
    await rename(path.join(trashDir(), made as string), path.join(trashDir(), old));

    // A dry run and a terminal without --yes only say what would go.
    const dry = await run(["prune", "--dry-run"]);
    expect(dry.out).toContain(`Would empty the trash folder ${old} (older than 30 days): 1 entry`);
    const asked = await run(["prune"], { tty: true });
    expect(asked.out).toContain(`Would empty the trash folder ${old}`);
    expect(await trashFolders()).toEqual([old, young]);

    const result = await run(["prune"]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain(`Emptied the trash folder ${old} (older than 30 days): 1 entry`);
    expect(result.out).toContain("deleted for good");
    expect(result.out).not.toContain(young);
    expect(await trashFolders()).toEqual([young]);
  });
});

describe("on a terminal", () => {
  it("without --yes lists what would go and moves nothing; --yes or CI moves it", async () => {
    const b = await keyOf("a blue heron");
    await page(PAGE[0] as string, PAGE[2] as string);
    const before = await snapshot();
    const asked = await run(["prune"], { tty: true });
    expect(asked.code).toBe(0);
    expect(asked.out).toContain(`unused   ${b.slice(0, 8)}  "a blue heron"`);
    expect(asked.out).toMatch(/Would remove 1 entry, 2 originals and 1 orphan variant/);
    expect(asked.out).toContain("Rerun with --yes");
    expect(await snapshot()).toEqual(before);
    expect(existsSync(trashDir())).toBe(false);

    const ci = await run(["prune"], { tty: true, env: { CI: "true" } });
    expect(ci.code, ci.err).toBe(0);
    expect(ci.out).toMatch(/Removed 1 entry, 2 originals and 1 orphan variant/);
    expect(Object.keys(await manifest())).not.toContain(b);

    expect((await run(["prune", "--restore"])).code).toBe(0);
    expect(await snapshot()).toEqual(before);
    const yes = await run(["prune", "--yes"], { tty: true });
    expect(yes.code, yes.err).toBe(0);
    expect(yes.out).toContain("Moved to .grok-images/trash/");
    expect(Object.keys(await manifest())).not.toContain(b);
  });
});
