/*
 * A Vite `Logger` that records what it is given instead of printing it, so tests can assert on progress lines,
 * warnings and summaries (pass it as `customLogger`).
 */
import type { Logger } from "vite";

export interface CapturedLogger extends Logger {
  readonly infos: string[];
  readonly warnings: string[];
  readonly errors: string[];
}

export function captureLogger(): CapturedLogger {
  const infos: string[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const warned = new Set<string>();
  return {
    infos,
    warnings,
    errors,
    hasWarned: false,
    info: (message) => void infos.push(message),
    warn(message) {
      warnings.push(message);
      this.hasWarned = true;
    },
    warnOnce(message) {
      if (warned.has(message)) return;
      warned.add(message);
      this.warn(message);
    },
    error: (message) => void errors.push(message),
    clearScreen: () => {},
    hasErrorLogged: () => false,
  };
}
