import { RuleList } from "./rule-list.js";
import type { Fault, FaultPhase, FaultRule } from "./types.js";

const PHASES_BY_FAULT: Readonly<Record<Fault["type"], readonly FaultPhase[]>> = {
  http: ["submit", "query", "download"],
  drop: ["submit", "query", "download"],
  delay: ["submit", "query", "download"],
  moderation: ["submit"],
  "accept-then-drop": ["submit"],
  outcome: ["submit"],
  latency: ["submit"],
  expired: ["download"],
  truncated: ["download"],
  corrupt: ["download"],
  oversized: ["download"],
};

/** Fault rules in insertion order; each match spends one of the rule's `times`. */
export class FaultRegistry extends RuleList<FaultRule> {
  constructor() {
    super(checkRule);
  }

  /**
   * The fault for a request, if any. Rules with a `prompt` match only requests whose task prompt is known
   * (an unknown task id has none).
   */
  take(phase: FaultPhase, prompt: string | undefined): Fault | undefined {
    return this.spend((rule) => rule.phase === phase && promptMatches(rule.prompt, prompt))?.fault;
  }
}

function promptMatches(pattern: FaultRule["prompt"], prompt: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (prompt === undefined) return false;
  if (typeof pattern === "string") return prompt.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(prompt);
}

/** Rejects rules that could never fire, so a typo in a faults file fails loudly at start. */
export function checkRule(rule: FaultRule): void {
  const where = `fault rule ${JSON.stringify(rule, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`;
  const phases = PHASES_BY_FAULT[rule.fault?.type];
  if (!phases) {
    throw new TypeError(`${where}: fault.type must be one of ${Object.keys(PHASES_BY_FAULT).join(", ")}`);
  }
  if (!phases.includes(rule.phase)) {
    throw new TypeError(`${where}: a "${rule.fault.type}" fault applies to phase ${phases.join(" or ")}`);
  }
  if (rule.times !== undefined && !(rule.times >= 0)) throw new TypeError(`${where}: times must be >= 0`);
  const fault = rule.fault;
  if (
    fault.type === "http" &&
    !(Number.isInteger(fault.status) && fault.status >= 400 && fault.status <= 599)
  ) {
    throw new TypeError(`${where}: an http fault needs a status from 400 to 599`);
  }
  if ((fault.type === "delay" || fault.type === "latency") && !(fault.ms >= 0)) {
    throw new TypeError(`${where}: ms must be a number >= 0`);
  }
  if (fault.type === "outcome" && !["FAILURE", "TIMEOUT", "CANCELLED"].includes(fault.status)) {
    throw new TypeError(`${where}: an outcome fault's status must be FAILURE, TIMEOUT or CANCELLED`);
  }
}
