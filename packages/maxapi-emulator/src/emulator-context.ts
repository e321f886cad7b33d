import type { FaultRegistry } from "./faults.js";
import type { TaskStore } from "./task-store.js";
import type { Counters, RuntimeOptions } from "./types.js";

/** What the API and CDN handlers share. Internal: not exported from the package. */
export interface EmulatorContext {
  options: RuntimeOptions;
  counters: Counters;
  faults: FaultRegistry;
  tasks: TaskStore;
  /** Timers of delayed responses, cleared on close. */
  timers: Set<NodeJS.Timeout>;
  now: () => number;
  cdnUrl: string;
}
