import { describe, expect, it } from "vitest";
import { badDirectivesError } from "../directive/bad-directives-error.js";
import { GrokImageError } from "../errors.js";
import { toPluginError } from "./to-plugin-error.js";

const LAZY = '// lazy\nimport pines from "grok:pines in fog?with=960";\n';
const OTHER = 'import cat from "grok:a sleeping cat?tier=ultra";\n';

function bad(file: string, source: string, raw: string, line: number, column: number) {
  const error = new GrokImageError("GROK_BAD_DIRECTIVE", `Invalid directive "${raw}": it is bad.`, {
    directive: raw,
    hint: "Write it well.",
  });
  return { file, source, raw, line, column, error };
}

describe("toPluginError", () => {
  it("leaves errors that are not grok-image's alone", () => {
    const plain = new Error("boom");
    expect(toPluginError(plain)).toBe(plain);
    expect(toPluginError("boom")).toEqual({ message: "boom" });
  });

  it("prefixes the code, drops the stack and names the importer", () => {
    const error = new GrokImageError("GROK_TASK_FAILED", "The task failed.", {
      taskId: "t-1",
      hint: "Retry.",
    });
    const out = toPluginError(error, "/p/src/main.ts");
    expect(out.message).toBe(
      "[GROK_TASK_FAILED] The task failed.\n  in: /p/src/main.ts\n  task id: t-1\n  hint: Retry.",
    );
    expect(out).toMatchObject({ stack: "", pluginCode: "GROK_TASK_FAILED", id: "/p/src/main.ts" });
    expect(out.loc).toBeUndefined();
    expect(out.frame).toBeUndefined();
    expect(error.importer).toBe("/p/src/main.ts");
  });

  it("keeps an importer already set", () => {
    const error = new GrokImageError("GROK_BAD_DIRECTIVE", "x", { importer: "/p/a.ts" });
    expect(toPluginError(error, "/p/b.ts").id).toBe("/p/a.ts");
  });

  it("puts the location where Vite and Astro show it, and keeps the frame in the message (astro build prints no frame)", () => {
    const error = new GrokImageError(
      "GROK_BAD_DIRECTIVE",
      'Invalid directive "grok:x?with=1": unknown parameter.',
      {
        importer: "/p/src/lazy.ts",
        loc: { file: "/p/src/lazy.ts", line: 2, column: 19 },
        frame: "> 2 | frame",
        hint: "Write w=1.",
      },
    );
    const out = toPluginError(error);
    expect(out).toMatchObject({
      id: "/p/src/lazy.ts",
      loc: { file: "/p/src/lazy.ts", line: 2, column: 19 },
      pluginCode: "GROK_BAD_DIRECTIVE",
    });
    // Not as `frame` too: Vite would print it a second time.
    expect(out.frame).toBeUndefined();
    expect(out.message).toBe(
      '[GROK_BAD_DIRECTIVE] Invalid directive "grok:x?with=1": unknown parameter.\n  in: /p/src/lazy.ts:2:19\n> 2 | frame\n  hint: Write w=1.',
    );
  });

  it("keeps every frame of a report in its message, once", () => {
    const report = badDirectivesError(
      [
        bad("/p/src/lazy.ts", LAZY, "grok:pines in fog?with=960", 2, 19),
        bad("/p/src/other.ts", OTHER, "grok:a sleeping cat?tier=ultra", 1, 17),
      ],
      "/p",
    );
    const out = toPluginError(report);
    expect(out.message.startsWith("[GROK_BAD_DIRECTIVE] 2 grok: directives are invalid:")).toBe(true);
    expect(out.loc).toEqual({ file: "/p/src/lazy.ts", line: 2, column: 19 });
    expect(out.frame).toBeUndefined();
    const first = '> 2 | import pines from "grok:pines in fog?with=960";';
    expect(out.message.split(first)).toHaveLength(2);
    expect(out.message).toContain("src/lazy.ts:2:19  grok:pines in fog?with=960");
    expect(out.message).toContain('> 1 | import cat from "grok:a sleeping cat?tier=ultra";');
    expect(out.message).toContain("src/other.ts:1:17");
  });

  it("gives Astro's dev overlay the hint in its own field, with a title, and the message without it", () => {
    const error = new GrokImageError("GROK_BAD_DIRECTIVE", 'Invalid directive "grok:x?tier=ultra".', {
      directive: "grok:x?tier=ultra",
      hint: "Use tier=pro.",
    });
    const out = toPluginError(error, "/p/src/pages/index.astro", { hintApart: true }) as ReturnType<
      typeof toPluginError
    > & { hint?: string; title?: string };
    expect(out.message).not.toContain("hint:");
    expect(out.hint).toBe("Use tier=pro.");
    expect(out.title).toBe("Invalid grok: directive");
    // Vite's overlay (and any build) keeps the hint in the message.
    expect(toPluginError(error).message).toContain("hint: Use tier=pro.");
  });
});
