import { readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Generation } from "../types.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * A submitted task not yet committed: written before polling starts, so a build that is killed (or a second
 * build sharing the cache) resumes this task id instead of paying for a new one.
 */
export interface PendingRecord {
  taskId: string;
  generation: Generation;
  /** ISO-8601. */
  submittedAt: string;
  /** 1 for the first submit; 2 for the one allowed resubmit after a FAILURE without reason. */
  attempt: number;
}

/** The `pending/` directory of a cache: one `<generationKey>.json` per submitted task. */
export class PendingJournal {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /**
   * The record, or undefined when there is none. An unreadable record (a torn write of an older version, a bad
   * hand edit) is moved aside as `<key>.json.corrupt-<time>`, so the task id in it stays readable by a person.
   */
  async read(key: string): Promise<PendingRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const record = parsePending(text);
    if (!record) {
      await rename(this.path(key), `${this.path(key)}.corrupt-${Date.now()}`).catch(() => {});
    }
    return record;
  }

  async write(key: string, record: PendingRecord): Promise<void> {
    const ordered = {
      taskId: record.taskId,
      generation: record.generation,
      submittedAt: record.submittedAt,
      attempt: record.attempt,
    };
    await writeFileAtomic(this.path(key), `${JSON.stringify(ordered, null, 2)}\n`);
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async list(): Promise<Array<{ key: string; record: PendingRecord }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: Array<{ key: string; record: PendingRecord }> = [];
    for (const name of names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()) {
      const key = name.slice(0, -".json".length);
      const record = await this.read(key);
      if (record) out.push({ key, record });
    }
    return out;
  }
}

function parsePending(text: string): PendingRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<PendingRecord>;
    if (
      typeof value.taskId === "string" &&
      typeof value.submittedAt === "string" &&
      typeof value.attempt === "number" &&
      typeof value.generation === "object" &&
      value.generation !== null
    ) {
      return value as PendingRecord;
    }
  } catch {
    // Falls through: treated as unreadable.
  }
  return undefined;
}
