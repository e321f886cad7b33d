import type { ConcurrencySetting } from "../engine/task-slots.js";
import { badOption, show } from "./check-option.js";

/** The `concurrency` option: `"auto"` (the default) adapts to what the API accepts; a number fixes it. */
export function resolveConcurrency(value: unknown): ConcurrencySetting {
  if (value === undefined || value === "auto") return "auto";
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw badOption(
      { option: "concurrency" },
      `${show(value)} is not accepted. Accepted values: "auto", integers >= 1`,
      '"auto" starts at 8 tasks in flight and adapts to what MaxAPI accepts; a number fixes it.',
    );
  }
  return value;
}
