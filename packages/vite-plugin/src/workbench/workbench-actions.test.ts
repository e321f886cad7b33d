import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveOptions } from "../options/resolve-options.js";
import { scanProject } from "../plan/scan-project.js";
import type { ResolvedOptions } from "../types.js";
import { workbenchActions } from "./workbench-actions.js";
import { workbenchState } from "./workbench-state.js";

/*
 * The workbench's edits on a Markdown directive written with literal spaces (the SPEC's own form), which reaches the
 * bundler with its spaces as `%20`: the workbench shows it, and edits it, as the file holds it.
 */

let root: string;
let options: ResolvedOptions;
const scan = () => scanProject(options, { markdownRoots: [join(root, "src")] });
const actions = () =>
  workbenchActions({ options, scan, engine: () => undefined, loop: () => undefined, log: () => {} });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "grok-workbench-"));
  options = resolveOptions({ mode: "generate" }, { root, env: {}, command: "serve" });
  await mkdir(join(root, "src", "content"), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

async function shown() {
  const state = await workbenchState({
    options,
    engine: undefined,
    loop: undefined,
    scan: await scan(),
    loaded: new Map(),
    spentUsd: 0,
  });
  return state.directives;
}

describe("workbench actions on a Markdown directive written with literal spaces", () => {
  it("shows it as written, and writes pick and v into it with its spaces kept", async () => {
    const post = join(root, "src", "content", "post.md");
    await writeFile(post, '# Robots\n\nSome text.\n\n![A robot](grok:a tin robot?n=3 "Our robot")\n');
    const [row] = await shown();
    expect(row).toMatchObject({ raw: "grok:a tin robot?n=3", line: 5, column: 12, editable: true });

    const at = { file: row?.file, line: row?.line, column: row?.column, raw: row?.raw };
    const picked = await actions().pick({ ...at, pick: 2 });
    expect(picked.raw).toBe("grok:a tin robot?n=3&pick=2");
    expect(await readFile(post, "utf8")).toBe(
      '# Robots\n\nSome text.\n\n![A robot](grok:a tin robot?n=3&pick=2 "Our robot")\n',
    );

    const [again] = await shown();
    expect(again?.raw).toBe("grok:a tin robot?n=3&pick=2");
    const rerolled = await actions().reroll({
      file: again?.file,
      line: again?.line,
      column: again?.column,
      raw: again?.raw,
      costUsd: again?.costUsd,
    });
    expect(rerolled.raw).toBe("grok:a tin robot?n=3&v=2");
    expect(await readFile(post, "utf8")).toContain('![A robot](grok:a tin robot?n=3&v=2 "Our robot")');
  });
});
