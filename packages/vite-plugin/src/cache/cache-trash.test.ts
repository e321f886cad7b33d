import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTrashFolder, expireTrash, listTrash, parseTrashName, trashName } from "./cache-trash.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-trash-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trash folder names", () => {
  it("are file-name-safe ISO times that sort by age, read back in either spelling", () => {
    const time = new Date("2025-01-02T03:04:05.678Z");
    expect(trashName(time)).toBe("2025-01-02T03-04-05-678Z");
    expect(parseTrashName("2025-01-02T03-04-05-678Z")).toEqual(time);
    expect(parseTrashName("2025-01-02T03:04:05.678Z")).toEqual(time);
    for (const bad of ["latest", "2025-01-02", "2025-13-02T03-04-05-678Z", "../2025-01-02T03-04-05-678Z"])
      expect(parseTrashName(bad), bad).toBeUndefined();
  });

  it("two prunes in one millisecond get two folders; the trash ignores itself in git and holds nothing else", async () => {
    const now = new Date("2025-01-02T03:04:05.678Z");
    const first = await createTrashFolder(dir, now);
    const second = await createTrashFolder(dir, now);
    expect([first.name, second.name]).toEqual(["2025-01-02T03-04-05-678Z", "2025-01-02T03-04-05-679Z"]);
    expect(await readFile(join(dir, "trash", ".gitignore"), "utf8")).toMatch(/^\*$/m);
    await mkdir(join(dir, "trash", "notes"));
    await writeFile(join(dir, "trash", "2024-01-01T00-00-00-000Z"), "a file, not a folder");
    expect((await listTrash(dir)).map((f) => f.name)).toEqual([first.name, second.name]);
  });

  it("expiry removes folders older than 30 days only, and leaves what is not a trash folder", async () => {
    const now = new Date("2025-03-01T00:00:00.000Z");
    const day = 24 * 60 * 60 * 1000;
    const old = await createTrashFolder(dir, new Date(now.getTime() - 30 * day - 1));
    const young = await createTrashFolder(dir, new Date(now.getTime() - 30 * day));
    await mkdir(join(dir, "trash", "notes"));
    expect((await expireTrash(dir, { now, dryRun: true })).map((f) => f.name)).toEqual([old.name]);
    expect(await listTrash(dir)).toHaveLength(2);
    expect((await expireTrash(dir, { now })).map((f) => f.name)).toEqual([old.name]);
    expect((await listTrash(dir)).map((f) => f.name)).toEqual([young.name]);
    expect(existsSync(join(dir, "trash", "notes"))).toBe(true);
  });
});
