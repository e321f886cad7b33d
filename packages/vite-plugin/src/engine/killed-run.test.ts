import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { parseDirective } from "../directive/parse-directive.js";
import { resolveOptions } from "../options/resolve-options.js";
import { createEngine } from "./create-engine.js";
import type { EngineEvent } from "./engine-types.js";

/*
 * A build process killed with SIGKILL (no cleanup, no abort handlers) while it polls. The engine runs from the
 * package's built `dist/` in a real child process, as the Vite plugin and the CLI run it.
 */
const DIST = pathToFileURL(fileURLToPath(new URL("../../dist/", import.meta.url))).href;
const KEY = "sk-killed-run-test-77aa";
const RAW = "grok:a build killed mid-poll";

const CHILD = `
const { createEngine } = await import("${DIST}engine/create-engine.js");
const { resolveOptions } = await import("${DIST}options/resolve-options.js");
const { parseDirective } = await import("${DIST}directive/parse-directive.js");
const options = resolveOptions(
  { apiKey: process.env.TEST_KEY, baseUrl: process.env.TEST_URL, mode: "generate" },
  { root: process.env.TEST_ROOT, env: {}, command: "build" },
);
const engine = createEngine(options, {
  onEvent: (e) => e.type === "task" && e.state === "submitted" && process.stdout.write("SUBMITTED\\n"),
  client: { poll: { initialDelayMs: 50, maxDelayMs: 100 } },
});
await engine.prepare([{ directive: parseDirective(${JSON.stringify(RAW)}, { tier: "lite", format: "webp", quality: 80 }) }]);
process.stdout.write("FINISHED\\n");
`;

let emu: Emulator;
let root: string;
beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 1500, imageScale: 0.25 });
  root = await mkdtemp(join(tmpdir(), "grok-killed-"));
});
afterAll(async () => {
  await emu.close();
  await rm(root, { recursive: true, force: true });
});

it("a build killed mid-poll is resumed by the next run without a second paid submit", async () => {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { ...process.env, TEST_KEY: KEY, TEST_URL: emu.url, TEST_ROOT: root },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("SUBMITTED")) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", () => resolve());
    child.on("error", reject);
  });
  await new Promise((resolve) => child.once("exit", resolve).once("close", resolve));
  expect(output).not.toContain("FINISHED");
  expect(emu.counters.tasksCreated).toBe(1);
  expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(1);

  const events: EngineEvent[] = [];
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate" },
    { root, env: {}, command: "build" },
  );
  const engine = createEngine(options, {
    onEvent: (e) => events.push(e),
    client: { poll: { initialDelayMs: 50, maxDelayMs: 100 } },
  });
  const directive = parseDirective(RAW, { tier: "lite", format: "webp", quality: 80 });
  const summary = await engine.prepare([{ directive }]);
  await engine.close();
  expect(summary.failed).toBe(0);
  expect(events.some((e) => e.type === "task" && e.state === "resumed")).toBe(true);
  expect(emu.counters.tasksCreated).toBe(1);
  expect(emu.counters.submits).toBe(1);
  expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(0);
});
