import { existsSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, PRICE_PER_IMAGE_USD, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { createEngine } from "../engine/create-engine.js";
import type { CliIO } from "./cli-io.js";
import { galleryCommand } from "./gallery-command.js";
import { generateCommand } from "./generate-command.js";
import { resolveCliOptions, scanProject } from "./load-project.js";
import { pruneCommand } from "./prune-command.js";
import { type ScanReport, scanCommand } from "./scan-command.js";
import { verifyCommand } from "./verify-command.js";

const KEY = "sk-cli-lifecycle-secret-4f1c9a";
const LITE = PRICE_PER_IMAGE_USD["grok-imagine/text-to-image-lite"];
const STANDARD = PRICE_PER_IMAGE_USD["grok-imagine/text-to-image-standard"];
const TRICKY = `a sign reading <b>"Tom & Jerry's"</b>`;

let emulator: Emulator;
let root: string;
const everything: string[] = [];

function sink() {
  let text = "";
  return {
    write(chunk: string) {
      text += chunk;
      everything.push(chunk);
      return true;
    },
    get text() {
      return text;
    },
  };
}

function io() {
  const stdout = sink();
  const stderr = sink();
  const value: CliIO = { stdout, stderr, env: { MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url }, cwd: root };
  return { io: value, stdout, stderr };
}

const INDEX_TS = `import forest from "grok:a misty forest at dawn?w=640";
import foxes from "grok:a red fox in snow?n=2";
import sign from "grok:${TRICKY.replaceAll('"', '\\"')}?tier=standard";
export default [forest, foxes, sign];
`;

async function manifest(): Promise<
  Record<string, { prompt: string; taskId: string; originals: Array<{ sha256: string; format: string }> }>
> {
  return JSON.parse(await readFile(path.join(root, ".grok-images", "manifest.json"), "utf8"));
}

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], latencyMs: 30, imageScale: 0.2 });
  root = await mkdtemp(path.join(tmpdir(), "grok-cli-"));
  await mkdir(path.join(root, "src", "content"), { recursive: true });
  await writeFile(path.join(root, "src", "index.ts"), INDEX_TS);
  // The same generation as the first import, written the Markdown way: one paid task for both.
  await writeFile(
    path.join(root, "src", "content", "post.md"),
    "# Post\n\n![forest](grok:a%20misty%20forest%20at%20dawn)\n",
  );
});

afterAll(async () => {
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const escapeHtmlText = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

async function scanJson(): Promise<ScanReport> {
  const run = io();
  expect(await scanCommand({ json: true }, run.io)).toBe(0);
  return JSON.parse(run.stdout.text) as ScanReport;
}

describe("grok-image on a real project against the emulator", () => {
  it("scan lists every directive as missing with the cost of the misses, without creating a cache", async () => {
    const report = await scanJson();
    expect(report.directives.map((d) => [d.file, d.line, d.status])).toEqual([
      ["src/content/post.md", 3, "missing"],
      ["src/index.ts", 1, "missing"],
      ["src/index.ts", 2, "missing"],
      ["src/index.ts", 3, "missing"],
    ]);
    expect(report.directives[0]?.key).toBe(report.directives[1]?.key);
    expect(report.summary).toMatchObject({ directives: 4, generations: 3, cached: 0, missing: 3, errors: 0 });
    expect(report.summary.estimatedCostUsd).toBeCloseTo(LITE + 2 * LITE + STANDARD, 9);
    expect(report.directives[0]?.shortKey).toBe(report.directives[0]?.key.slice(0, 8));
    expect(existsSync(path.join(root, ".grok-images"))).toBe(false);

    const human = io();
    expect(await scanCommand({}, human.io)).toBe(0);
    expect(human.stdout.text).toContain("missing");
    expect(human.stdout.text).toContain("src/index.ts:2  grok:a red fox in snow?n=2");
    expect(human.stdout.text).toMatch(
      /4 directives, 3 generations: 0 cached, 3 missing \(about \$0\.00\d+ to generate\)/,
    );
  });

  it("generate pays once per generation, then scan shows everything cached", async () => {
    const run = io();
    expect(await generateCommand({}, run.io)).toBe(0);
    expect(emulator.counters.submits).toBe(3);
    expect(emulator.counters.tasksCreated).toBe(3);
    expect(run.stdout.text).toMatch(/4 directives · 0 cached · 3 generated · 0 failed/);
    // Plain progress lines, since the test streams are not terminals.
    expect(run.stderr.text).toContain("to generate");
    expect(run.stderr.text).toMatch(/done "a red fox in snow"/);

    const report = await scanJson();
    expect(report.directives.every((d) => d.status === "cached")).toBe(true);
    expect(report.summary.estimatedCostUsd).toBe(0);
    expect(emulator.counters.costUsd).toBeCloseTo(LITE + 2 * LITE + STANDARD, 9);
  });

  it("a second generate pays nothing", async () => {
    const run = io();
    expect(await generateCommand({ json: true }, run.io)).toBe(0);
    expect(emulator.counters.submits).toBe(3);
    const result = JSON.parse(run.stdout.text);
    expect(result.summary).toMatchObject({ directives: 4, hits: 3, generated: 0, failed: 0 });
    expect(result.failures).toEqual([]);
  });

  it("gallery writes one self-contained page with every prompt escaped and every image inline", async () => {
    const run = io();
    expect(await galleryCommand({}, run.io)).toBe(0);
    const file = path.join(root, "grok-gallery.html");
    expect(run.stdout.text).toContain(file);
    const html = await readFile(file, "utf8");
    const entries = Object.values(await manifest());
    for (const entry of entries) {
      expect(html).toContain(escapeHtmlText(entry.prompt));
      expect(html).toContain(entry.taskId);
    }
    expect(html).toContain("a sign reading &lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;");
    expect(html).not.toContain("<b>");
    const uris = [...html.matchAll(/src="data:image\/webp;base64,([^"]+)"/g)].map((m) => m[1] as string);
    expect(uris).toHaveLength(entries.reduce((sum, e) => sum + e.originals.length, 0));
    const thumb = await sharp(Buffer.from(uris[0] as string, "base64")).metadata();
    expect(thumb.format).toBe("webp");
    expect(html).not.toMatch(/(?:src|href)="https?:/);
    expect(html).toContain("src/index.ts:2");
  });

  it("verify passes on an intact cache and names a damaged original", async () => {
    const ok = io();
    expect(await verifyCommand({}, ok.io)).toBe(0);
    expect(ok.stdout.text).toContain("all intact");

    const fox = Object.values(await manifest()).find((e) => e.prompt === "a red fox in snow");
    const original = fox?.originals[0];
    if (!original) throw new Error("the fox entry is missing");
    const file = path.join(
      root,
      ".grok-images",
      "originals",
      `${original.sha256}.${original.format === "jpeg" ? "jpg" : original.format}`,
    );
    const before = await readFile(file);
    await appendFile(file, "x");
    const bad = io();
    expect(await verifyCommand({}, bad.io)).toBe(1);
    expect(bad.stdout.text).toContain(original.sha256);
    expect(bad.stdout.text).toContain("damaged");
    const json = io();
    expect(await verifyCommand({ json: true }, json.io)).toBe(1);
    expect(JSON.parse(json.stdout.text).problems).toHaveLength(1);
    await writeFile(file, before);
    expect(await verifyCommand({}, io().io)).toBe(0);
  });

  it("prune --dry-run lists what would go and removes nothing; prune removes it and keeps what is used", async () => {
    // A derived variant in use, and an orphan left by a transform no directive asks for any more.
    const cliIo = io().io;
    const options = await resolveCliOptions({}, cliIo);
    const engine = createEngine(options);
    const { uses } = await scanProject(options);
    const forestUse = uses.find((u) => u.directive.raw === "grok:a misty forest at dawn?w=640");
    if (!forestUse) throw new Error("forest directive not found");
    const [liveVariant] = await engine.images(forestUse);
    await engine.close();
    const variantsDir = path.join(root, ".grok-images", "variants");
    const orphan = path.join(variantsDir, "0123456789abcdef0123456789abcdef.webp");
    await writeFile(orphan, "stale");
    await writeFile(orphan.replace(/\.webp$/, ".json"), '{"width":1,"height":1,"format":"webp","bytes":5}\n');

    await writeFile(path.join(root, "src", "index.ts"), INDEX_TS.replace(/^import foxes.*\n/m, ""));
    const before = await manifest();
    const fox = Object.entries(before).find(([, e]) => e.prompt === "a red fox in snow");
    if (!fox) throw new Error("the fox entry is missing");
    const foxFiles = (await readdir(path.join(root, ".grok-images", "originals"))).filter((n) =>
      fox[1].originals.some((o) => n.startsWith(o.sha256)),
    );
    expect(foxFiles).toHaveLength(2);

    const dry = io();
    expect(await pruneCommand({ dryRun: true }, dry.io)).toBe(0);
    expect(dry.stdout.text).toContain(`unused   ${fox[0].slice(0, 8)}  "a red fox in snow"`);
    expect(dry.stdout.text).toMatch(/Would remove 1 entry, 2 originals and 1 orphan variant, freeing \d/);
    expect(await manifest()).toEqual(before);
    expect(existsSync(orphan)).toBe(true);

    const wet = io();
    expect(await pruneCommand({}, wet.io)).toBe(0);
    const after = await manifest();
    expect(Object.keys(after).sort()).toEqual(
      Object.keys(before)
        .filter((k) => k !== fox[0])
        .sort(),
    );
    const left = await readdir(path.join(root, ".grok-images", "originals"));
    for (const name of foxFiles) expect(left).not.toContain(name);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(liveVariant?.file as string)).toBe(true);
    expect(await verifyCommand({}, io().io)).toBe(0);

    const again = io();
    expect(await pruneCommand({ dryRun: true }, again.io)).toBe(0);
    expect(again.stdout.text).toContain("Nothing to prune");
  });

  it("never prints the API key", () => {
    expect(everything.join("")).not.toContain(KEY);
  });
});
