import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import type { Emulator } from "maxapi-emulator";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRun, runNode } from "../helpers/run-node.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { startTestEmulator } from "../helpers/with-emulator.js";

/*
 * The API key given as the `apiKey` option of a project's vite.config appears in no output: not in `vite build
 * --debug` (whose config dump shows every plugin object), not in `grok-image generate` (which reads the key from
 * that config and must still get the real one), not in any dump of the plugin object.
 */

const KEY = "sk-live-DEBUG-DUMP-CANARY-0f7c2a91";
const VITE_BIN = fileURLToPath(new URL("../node_modules/vite/bin/vite.js", import.meta.url));
const CLI_BIN = fileURLToPath(new URL("../../packages/vite-plugin/dist/cli/main.js", import.meta.url));

let emulator: Emulator;
let project: TempProject;
/** Tasks `grok-image generate` paid for with the config's key. */
let paid = 0;

/** This process's environment without Vitest's markers or a real key, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("VITEST") && name !== "NODE_ENV" && name !== "MAXAPI_KEY" && name !== "CI") {
      env[name] = value;
    }
  }
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

function run(args: readonly string[], cwd: string, env = childEnv()): Promise<NodeRun> {
  return runNode(args, { cwd, env });
}

beforeAll(async () => {
  emulator = await startTestEmulator({ apiKeys: [KEY] });
  project = await tempProject("vite-basic", { inRepository: true });
  await writeFile(
    project.resolve("vite.config.mjs"),
    [
      'import { grokImage } from "vite-plugin-grok-image";',
      "export default {",
      `  plugins: [grokImage({ apiKey: "${KEY}", baseUrl: "${emulator.url}", mode: "generate" })],`,
      '  build: { outDir: "dist" },',
      "};",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("an apiKey given in vite.config", () => {
  it("is used by `grok-image generate`, which prints it nowhere", async () => {
    const { code, output } = await run([CLI_BIN, "generate"], project.root);
    expect(output).not.toContain(KEY);
    expect(code, output).toBe(0);
    paid = emulator.counters.tasksCreated;
    expect(paid).toBeGreaterThan(0);
  });

  it("is in no line of `vite build --debug`, which dumps every plugin object", async () => {
    const { code, output } = await run(
      [VITE_BIN, "build", "--debug"],
      project.root,
      childEnv({ DEBUG: "vite:*" }),
    );
    expect(code, output).toBe(0);
    // The dump was printed, with the plugin and its (redacted) options in it.
    expect(output).toContain("using resolved config");
    expect(output).toContain("userOptions");
    expect(output).toContain("[redacted]");
    expect(output).not.toContain(KEY);
    // Everything was cached by the CLI run: the build paid for nothing more.
    expect(emulator.counters.tasksCreated).toBe(paid);
  });

  it("is hidden even where debug output shows hidden properties and getters", async () => {
    const env = childEnv({
      DEBUG: "vite:config",
      DEBUG_SHOW_HIDDEN: "true",
      DEBUG_GETTERS: "true",
      DEBUG_DEPTH: "12",
    });
    const { code, output } = await run([VITE_BIN, "build", "--debug"], project.root, env);
    expect(code, output).toBe(0);
    expect(output).toContain("userOptions");
    expect(output).not.toContain(KEY);
  });

  it("is in no dump of the plugin object", () => {
    const plugin = grokImage({ apiKey: KEY, tier: "pro" });
    for (const text of [
      JSON.stringify(plugin),
      JSON.stringify(plugin.api),
      inspect(plugin, { depth: 20 }),
      inspect(plugin, { depth: 20, showHidden: true, getters: true }),
      inspect([plugin], { depth: 20 }),
    ]) {
      expect(text).not.toContain(KEY);
    }
    expect(plugin.api?.userOptions.apiKey).toBe("[redacted]");
    expect(plugin.api?.userOptions.tier).toBe("pro");
  });
});
