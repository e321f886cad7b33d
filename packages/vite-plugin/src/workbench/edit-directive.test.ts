import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EditRefused, editDirective, withParam } from "./edit-directive.js";

describe("withParam", () => {
  it("sets a parameter where it is written, or appends it, keeping every other one as written", () => {
    expect(withParam("grok:a fox", "pick", "2")).toBe("grok:a fox?pick=2");
    expect(withParam("grok:a fox?n=3&w=160", "pick", "2")).toBe("grok:a fox?n=3&w=160&pick=2");
    expect(withParam("grok:a fox?pick=1&n=3&w=%31%36%30", "pick", "3")).toBe(
      "grok:a fox?pick=3&n=3&w=%31%36%30",
    );
    expect(withParam("grok:a fox?n=3&v=2", "v", "3")).toBe("grok:a fox?n=3&v=3");
  });

  it("removes a parameter, and the `?` with the last one", () => {
    expect(withParam("grok:a fox?n=3&pick=2", "pick", undefined)).toBe("grok:a fox?n=3");
    expect(withParam("grok:a fox?pick=2", "pick", undefined)).toBe("grok:a fox");
    expect(withParam("grok:a fox", "pick", undefined)).toBe("grok:a fox");
  });

  it("never takes an escaped `?` of the prompt for the start of the parameters", () => {
    expect(withParam("grok:why\\? a fox", "v", "2")).toBe("grok:why\\? a fox?v=2");
  });
});

describe("editDirective", () => {
  let dir: string;
  let file: string;
  const source = '// a page\r\nimport a from "grok:a fox?n=3";\r\nimport b from "grok:a fox?n=3";\r\n';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "grok-edit-"));
    file = join(dir, "page.ts");
    await writeFile(file, source);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("replaces only the directive at that line and column", async () => {
    await editDirective({ file, line: 3, column: 16, raw: "grok:a fox?n=3" }, "grok:a fox?n=3&pick=2");
    expect(await readFile(file, "utf8")).toBe(
      '// a page\r\nimport a from "grok:a fox?n=3";\r\nimport b from "grok:a fox?n=3&pick=2";\r\n',
    );
  });

  it("refuses, writing nothing, when the file no longer holds the directive there", async () => {
    const stale = editDirective(
      { file, line: 2, column: 16, raw: "grok:a cat?n=3" },
      "grok:a cat?n=3&pick=2",
    );
    await expect(stale).rejects.toBeInstanceOf(EditRefused);
    await expect(stale).rejects.toMatchObject({ stale: true });
    await expect(
      editDirective({ file, line: 9, column: 1, raw: "grok:a fox?n=3" }, "grok:a fox?pick=2"),
    ).rejects.toThrow(/no longer holds/);
    expect(await readFile(file, "utf8")).toBe(source);
  });
});
