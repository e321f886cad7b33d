import { readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { GrokImageErrorCode } from "../errors.js";
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
  /**
   * Set when the task was paid for but its result can never be used (URLs already expired at the first download,
   * bytes that never decode). The record then stays, so no build pays for the key again on its own: each build
   * fails at once with this error, until a person deletes the record.
   */
  outcome?: PendingOutcome;
}

/** The error a stuck task failed with, as the next builds report it again. */
export interface PendingOutcome {
  code: GrokImageErrorCode;
  message: string;
  hint: string;
  /** ISO-8601. */
  failedAt: string;
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
      ...(record.outcome ? { outcome: record.outcome } : {}),
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
      // A mangled outcome is dropped, not the record: the task is then resumed (free) and fails again, never paid.
      if (value.outcome !== undefined && !isOutcome(value.outcome)) delete value.outcome;
      return value as PendingRecord;
    }
  } catch {
    // Falls through: treated as unreadable.
  }
  return undefined;
}

function isOutcome(value: unknown): value is PendingOutcome {
  const o = value as Partial<PendingOutcome> | null;
  return (
    typeof o === "object" &&
    o !== null &&
    typeof o.code === "string" &&
    o.code.startsWith("GROK_") &&
    typeof o.message === "string" &&
    typeof o.hint === "string" &&
    typeof o.failedAt === "string"
  );
}
