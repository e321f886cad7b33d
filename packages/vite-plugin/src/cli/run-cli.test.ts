import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { captureIo } from "./__test__/capture-io.js";
import { runCli } from "./run-cli.js";

const run = promisify(execFile);
const KEY = "sk-run-cli-secret-8d2e71";
const packageDir = fileURLToPath(new URL("../../", import.meta.url));
const repoDir = path.resolve(packageDir, "../..");

let emulator: Emulator;
let root: string;

const capture = (env: NodeJS.ProcessEnv = { MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url }) =>
  captureIo(root, env);

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], latencyMs: 20, imageScale: 0.2 });
});

beforeEach(async () => {
  emulator.reset();
  if (root) await rm(root, { recursive: true, force: true });
  root = await mkdtemp(path.join(tmpdir(), "grok-run-cli-"));
  await mkdir(path.join(root, "src"));
  await writeFile(
    path.join(root, "src", "page.ts"),
    'import a from "grok:a lighthouse at night";\nimport b from "grok:a paper boat?n=2";\n',
  );
});

afterAll(async () => {
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("usage and configuration errors exit 2", () => {
  it.each([
    [["scan", "--bogus"], /Unknown option `--bogus`/],
    [["frobnicate"], /Unknown command `frobnicate`/],
    [[], /Usage: grok-image/],
    [["generate", "--concurrency", "zero"], /option "concurrency": "zero" is not accepted/],
    [["generate", "--max-cost", "lots"], /option "maxCost": "lots" is not accepted/],
    [["scan", "--tier", "ultra"], /option "tier": "ultra" is not accepted/],
    [["generate", "--mode", "yolo"], /option "mode": "yolo" is not accepted/],
    [["scan", "missing-dir"], /is not a directory/],
    [["scan", "a", "b"], /Unused args/],
  ])("%j", async (argv, message) => {
    const c = capture();
    expect(await runCli(argv, c.io)).toBe(2);
    expect(c.err).toMatch(message);
    expect(emulator.counters.submits).toBe(0);
  });

  it("generate without an API key exits 2, says how to set it, and submits nothing", async () => {
    const c = capture({ MAXAPI_BASE_URL: emulator.url });
    expect(await runCli(["generate"], c.io)).toBe(2);
    expect(c.err).toContain("MAXAPI_KEY");
    expect(emulator.counters.submits).toBe(0);
  });

  it("a key pasted into the wrong variable is never echoed", async () => {
    const c = capture({ MAXAPI_KEY: KEY, MAXAPI_BASE_URL: KEY });
    expect(await runCli(["generate"], c.io)).toBe(2);
    expect(c.err).toContain("MAXAPI_BASE_URL");
    expect(c.err).toContain("[redacted]");
    expect(c.out + c.err).not.toContain(KEY);
  });
});

describe("refusals and failures exit 1", () => {
  it("a budget below the misses refuses before any submit", async () => {
    const c = capture();
    expect(await runCli(["generate", "--max-cost", "0.002"], c.io)).toBe(1);
    expect(c.err).toContain("over the budget");
    expect(c.err).toContain("grok:a paper boat?n=2");
    expect(emulator.counters.submits).toBe(0);
  });

  it("GROK_IMAGE_MAX_COST applies when no flag is given", async () => {
    const c = capture({ MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url, GROK_IMAGE_MAX_COST: "0.001" });
    expect(await runCli(["generate"], c.io)).toBe(1);
    expect(emulator.counters.submits).toBe(0);
  });

  it("--mode frozen fails on misses without calling the API; CI alone does not freeze generate", async () => {
    const frozen = capture();
    expect(await runCli(["generate", "--mode", "frozen"], frozen.io)).toBe(1);
    expect(frozen.err).toContain("frozen");
    expect(emulator.counters.submits + emulator.counters.queries).toBe(0);

    const ci = capture({ MAXAPI_KEY: KEY, MAXAPI_BASE_URL: emulator.url, CI: "true" });
    expect(await runCli(["generate"], ci.io)).toBe(0);
    expect(emulator.counters.submits).toBe(2);
  });

  it("a bad directive fails generate before anything is paid, listing where it is", async () => {
    await writeFile(
      path.join(root, "src", "more.ts"),
      'import x from "grok:a lighthouse?fit=sideways";\nimport y from "grok:something forbidden";\n',
    );
    const c = capture();
    expect(await runCli(["generate", "--json"], c.io)).toBe(1);
    expect(emulator.counters.submits).toBe(0);
    const result = JSON.parse(c.out);
    expect(result.failures.map((f: { code: string; file: string }) => [f.code, f.file])).toEqual([
      ["GROK_BAD_DIRECTIVE", "src/more.ts"],
    ]);
    expect(c.err).toContain("src/more.ts:1:16");
    expect(c.err).toContain("cover, contain, inside, outside, fill");
    const scan = capture();
    expect(await runCli(["scan"], scan.io)).toBe(1);
    // Nothing was generated, the page's directive included.
    expect(scan.out).toMatch(/missing .*src\/page\.ts:1/);
    expect(scan.out).toMatch(/missing .*grok:something forbidden/);
    expect(scan.out).toMatch(/error .*grok:a lighthouse\?fit=sideways/);
  });

  it("a moderated prompt fails (exit 1) while the rest is generated", async () => {
    await writeFile(path.join(root, "src", "more.ts"), 'import y from "grok:something forbidden";\n');
    emulator.inject({ phase: "submit", prompt: "forbidden", fault: { type: "moderation" } });
    const c = capture();
    expect(await runCli(["generate", "--json"], c.io)).toBe(1);
    const result = JSON.parse(c.out);
    expect(result.summary).toMatchObject({ failed: 1 });
    expect(result.failures.map((f: { code: string; file: string }) => [f.code, f.file])).toEqual([
      ["GROK_MODERATION", "src/more.ts"],
    ]);
  });
});

describe("flags reach the commands", () => {
  it("--cache-dir (relative to the working directory) is where generate writes and verify reads", async () => {
    const c = capture();
    expect(await runCli(["generate", "--cache-dir", "custom-cache", "--concurrency", "1"], c.io)).toBe(0);
    expect(existsSync(path.join(root, "custom-cache", "manifest.json"))).toBe(true);
    expect(existsSync(path.join(root, ".grok-images"))).toBe(false);
    const v = capture();
    expect(await runCli(["verify", "--cache-dir", "custom-cache"], v.io)).toBe(0);
    expect(v.out).toContain("2 entries");
    const scan = capture();
    expect(await runCli(["scan", ".", "--json", "--cache-dir", "custom-cache"], scan.io)).toBe(0);
    expect(JSON.parse(scan.out).summary).toMatchObject({ cached: 2, missing: 0 });
    expect(c.out + c.err + v.out + scan.out).not.toContain(KEY);
  });

  it("gallery --out writes where asked, even before anything is cached", async () => {
    const c = capture();
    expect(await runCli(["gallery", "--out", "review/sheet.html"], c.io)).toBe(0);
    expect(c.out).toContain("0 generations");
    expect(existsSync(path.join(root, "review", "sheet.html"))).toBe(true);
    expect(existsSync(path.join(root, "grok-gallery.html"))).toBe(false);
  });
});

describe("the built bin", () => {
  beforeAll(async () => {
    await run(path.join(repoDir, "node_modules", ".bin", "tsc"), ["-b", packageDir], { cwd: repoDir });
  }, 120_000);

  it("prints help and runs a command", async () => {
    const bin = path.join(packageDir, "dist", "cli", "main.js");
    const help = await run(process.execPath, [bin, "--help"]);
    for (const command of ["scan", "generate", "verify", "prune", "gallery"])
      expect(help.stdout).toContain(command);
    const scan = await run(process.execPath, [bin, "scan", root, "--json"], {
      env: { PATH: process.env.PATH },
    });
    expect(JSON.parse(scan.stdout).summary).toMatchObject({ directives: 2, missing: 2 });
    const bad = await run(process.execPath, [bin, "prune", "--nope"]).catch(
      (error: { code: number }) => error,
    );
    expect((bad as { code: number }).code).toBe(2);
  });
});
