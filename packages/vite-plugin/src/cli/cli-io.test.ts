import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { GrokImageError } from "../errors.js";
import { captureIo } from "./__test__/capture-io.js";
import { EXIT, guardIo, redactSecret, reportError } from "./cli-io.js";
import { runCli } from "./run-cli.js";

const KEY = "sk-cli-io-secret-5c0a2f";
let emulator: Emulator;
let root: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], latencyMs: 20, imageScale: 0.2 });
});
beforeEach(async () => {
  emulator.reset();
  if (root) await rm(root, { recursive: true, force: true });
  root = await mkdtemp(path.join(tmpdir(), "grok-cli-io-"));
  await mkdir(path.join(root, "src"));
  await writeFile(path.join(root, "src", "page.ts"), 'import a from "grok:a lighthouse at night";\n');
});
afterAll(async () => {
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("reportError", () => {
  it("leads with the GROK_* code, as a build does", () => {
    const c = captureIo(root, {});
    const error = new GrokImageError("GROK_FROZEN_MISS", "grok:a fox is not in the cache.", {
      hint: "Generate it.",
    });
    expect(reportError(c.io, error)).toBe(EXIT.failed);
    expect(c.err).toBe("[GROK_FROZEN_MISS] grok:a fox is not in the cache.\n  hint: Generate it.\n");
  });
});

describe("guardIo", () => {
  it("redacts a key of any length, only where it stands as a word", () => {
    const c = captureIo(root, {});
    const io = guardIo(c.io);
    redactSecret(io, "k");
    io.stdout.write("grok-image: a kettle, k8s\n");
    io.stderr.write("Authorization: Bearer k\n");
    expect(c.out).toBe("grok-image: a kettle, k8s\n");
    expect(c.err).toBe("Authorization: Bearer [redacted]\n");
  });
});

describe("what the CLI prints for a failure a user can meet", () => {
  const env = (extra: NodeJS.ProcessEnv = {}) => ({
    MAXAPI_KEY: KEY,
    MAXAPI_BASE_URL: emulator.url,
    ...extra,
  });

  it("a cache directory that is a file", async () => {
    const file = path.join(root, "cache-file");
    await writeFile(file, "");
    for (const command of ["generate", "scan", "verify"]) {
      const c = captureIo(root, env());
      expect(await runCli([command, "--cache-dir", "cache-file"], c.io)).toBe(EXIT.failed);
      expect(c.err).toContain(
        `[GROK_CACHE_UNWRITABLE] The grok-image cache directory ${file} cannot be used`,
      );
      expect(c.err).toContain("hint: Move or delete the file");
    }
    expect(emulator.counters.submits).toBe(0);
  });

  it("an empty MAXAPI_BASE_URL", async () => {
    const c = captureIo(root, env({ MAXAPI_BASE_URL: "" }));
    expect(await runCli(["generate"], c.io)).toBe(EXIT.usage);
    expect(c.err).toContain("[GROK_BAD_OPTION]");
    expect(c.err).toContain("MAXAPI_BASE_URL");
    expect(c.err).toMatch(/hint: Set it to the API origin/);
    expect(c.err).not.toContain("undefined");
    expect(emulator.counters.submits).toBe(0);
  });

  it("a key with a line break in it: refused, nothing sent, nothing said about charges", async () => {
    const c = captureIo(root, env({ MAXAPI_KEY: `${KEY}\n${KEY}` }));
    expect(await runCli(["generate"], c.io)).toBe(EXIT.usage);
    expect(c.err).toContain("[GROK_BAD_OPTION]");
    expect(c.err).toContain("line break");
    expect(c.err).toContain("nothing was sent to MaxAPI");
    expect(c.err).not.toContain("charged");
    expect(c.err).not.toContain(KEY);
    expect(emulator.counters.submits).toBe(0);
  });

  it("a bad directive", async () => {
    await writeFile(path.join(root, "src", "page.ts"), 'import a from "grok:a lighthouse%00";\n');
    const c = captureIo(root, env());
    expect(await runCli(["scan"], c.io)).toBe(EXIT.failed);
    expect(c.out + c.err).toContain("U+0000 (NUL)");
    expect(c.out + c.err).toContain("src/page.ts");
  });
});
