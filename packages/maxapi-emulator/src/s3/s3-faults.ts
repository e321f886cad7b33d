import type { S3Fault, S3FaultRule, S3Operation } from "./s3-types.js";

interface ActiveRule {
  rule: S3FaultRule;
  left: number;
}

const FAULT_TYPES = new Set<S3Fault["type"]>(["error", "drop", "delay"]);

/** S3 fault rules in insertion order; each match spends one of the rule's `times`. */
export class S3FaultRegistry {
  #rules: ActiveRule[] = [];

  add(rule: S3FaultRule): () => void {
    checkS3Rule(rule);
    const active: ActiveRule = { rule, left: rule.times ?? Number.POSITIVE_INFINITY };
    this.#rules.push(active);
    return () => {
      this.#rules = this.#rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.#rules = [];
  }

  take(op: S3Operation, key: string | undefined): S3Fault | undefined {
    for (const active of this.#rules) {
      if (active.left <= 0) continue;
      const { op: ops, key: pattern } = active.rule;
      if (ops !== undefined && !(Array.isArray(ops) ? ops : [ops]).includes(op)) continue;
      if (pattern !== undefined) {
        if (key === undefined) continue;
        if (typeof pattern === "string" ? !key.includes(pattern) : !new RegExp(pattern).test(key)) continue;
      }
      active.left -= 1;
      return active.rule.fault;
    }
    return undefined;
  }
}

/** Rejects rules that could never fire, so a typo fails loudly. */
export function checkS3Rule(rule: S3FaultRule): void {
  const where = `S3 fault rule ${JSON.stringify(rule, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`;
  if (!FAULT_TYPES.has(rule.fault?.type)) {
    throw new TypeError(`${where}: fault.type must be one of ${[...FAULT_TYPES].join(", ")}`);
  }
  const fault = rule.fault;
  if (
    fault.type === "error" &&
    !(Number.isInteger(fault.status) && fault.status >= 300 && fault.status <= 599)
  ) {
    throw new TypeError(`${where}: an error fault needs a status from 300 to 599`);
  }
  if (fault.type === "error" && !fault.code) throw new TypeError(`${where}: an error fault needs a code`);
  if (fault.type === "delay" && !(fault.ms >= 0)) throw new TypeError(`${where}: a delay needs ms >= 0`);
  if (rule.times !== undefined && !(rule.times >= 0)) throw new TypeError(`${where}: times must be >= 0`);
}
