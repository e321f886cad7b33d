import { randomUUID } from "node:crypto";
import type { FailureReason, GrokModel, TaskData, TaskStatus } from "./types.js";

/** How a task ends once its latency has passed. */
export interface TaskOutcome {
  status: "SUCCESS" | "FAILURE" | "TIMEOUT" | "CANCELLED";
  failureReason: FailureReason | null;
}

/** What a valid submit body asks for (`validateSubmit` reads it, the task keeps it). */
export interface TaskRequest {
  model: GrokModel;
  input: Record<string, unknown>;
  prompt: string;
  n: number;
  ratio: string | undefined;
  resolution: string | undefined;
  callBackUrl: string | undefined;
}

export interface NewTask extends TaskRequest {
  /** False when a private callBackUrl is accepted but its webhook must be skipped. */
  deliverWebhook: boolean;
  latencyMs: number;
  outcome: TaskOutcome;
  /** Image settings fixed at submit, so a later `configure()` cannot change a finished task's bytes. */
  seed: string;
  imageScale: number;
}

export interface Task extends NewTask {
  id: string;
  status: TaskStatus;
  failureReason: FailureReason | null;
  createdAt: string;
  updatedAt: string;
  /** Epoch ms of SUCCESS; result URLs expire relative to it. */
  generatedAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface TaskStoreHooks {
  now: () => number;
  timestamp: () => string;
  onTerminal: (task: Task) => void;
}

const WALK: readonly TaskStatus[] = ["PENDING", "PROCESSING", "SUBMITTED"];
const TERMINAL = new Set<TaskStatus>(["SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"]);

function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/** Tasks and their state machine: PENDING -> PROCESSING -> SUBMITTED -> outcome, a third of the latency each. */
export class TaskStore {
  #tasks = new Map<string, Task>();
  #hooks: TaskStoreHooks;
  #running = 0;

  constructor(hooks: TaskStoreHooks) {
    this.#hooks = hooks;
  }

  create(spec: NewTask): Task {
    const stamp = this.#hooks.timestamp();
    const task: Task = {
      ...spec,
      id: randomUUID(),
      status: "PENDING",
      failureReason: null,
      createdAt: stamp,
      updatedAt: stamp,
      generatedAt: undefined,
      timer: undefined,
    };
    this.#tasks.set(task.id, task);
    this.#running += 1;
    this.#schedule(task);
    return task;
  }

  /** Tasks submitted and not yet terminal. */
  get running(): number {
    return this.#running;
  }

  /** How many tasks match, e.g. earlier generations of one prompt. */
  count(predicate: (task: Task) => boolean): number {
    let n = 0;
    for (const task of this.#tasks.values()) if (predicate(task)) n++;
    return n;
  }

  get(taskId: string): Task | undefined {
    return this.#tasks.get(taskId);
  }

  /** Cancels a task if its status allows; returns the refusal message otherwise. */
  cancel(task: Task, mode: "pending" | "non-terminal"): string | undefined {
    const allowed = mode === "pending" ? task.status === "PENDING" : !isTerminal(task.status);
    if (!allowed) return `task ${task.id} cannot be cancelled in status ${task.status}`;
    this.#finish(task, { status: "CANCELLED", failureReason: null });
    return undefined;
  }

  /** Forgets every task and stops every timer. */
  clear(): void {
    for (const task of this.#tasks.values()) clearTimeout(task.timer);
    this.#tasks.clear();
    this.#running = 0;
  }

  #schedule(task: Task): void {
    const step = task.latencyMs / WALK.length;
    const advance = () => {
      const next = WALK[WALK.indexOf(task.status) + 1];
      if (next) {
        task.status = next;
        task.updatedAt = this.#hooks.timestamp();
        task.timer = setTimeout(advance, step);
      } else {
        this.#finish(task, task.outcome);
      }
    };
    task.timer = setTimeout(advance, step);
  }

  #finish(task: Task, outcome: TaskOutcome): void {
    clearTimeout(task.timer);
    task.timer = undefined;
    if (!isTerminal(task.status)) this.#running -= 1;
    task.status = outcome.status;
    task.failureReason = outcome.status === "FAILURE" ? outcome.failureReason : null;
    task.updatedAt = this.#hooks.timestamp();
    if (outcome.status === "SUCCESS") task.generatedAt = this.#hooks.now();
    this.#hooks.onTerminal(task);
  }
}

/** The query `data` object (MAXAPI.md §4): `input` echoes the submit input with `model` inside. */
export function taskData(task: Task, cdnUrl: string): TaskData {
  return {
    taskId: task.id,
    status: task.status,
    input: { model: task.model, ...task.input },
    result:
      task.status === "SUCCESS"
        ? { type: "image", urls: Array.from({ length: task.n }, (_, i) => imageUrl(cdnUrl, task.id, i)) }
        : null,
    failure_reason: task.failureReason,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}

function imageUrl(cdnUrl: string, taskId: string, index: number): string {
  return `${cdnUrl}/images/${taskId}/image-${index}.jpg`;
}
