import { RuleList } from "../rule-list.js";
import type { S3Fault, S3FaultRule, S3Operation } from "./s3-types.js";

const FAULT_TYPES = new Set<S3Fault["type"]>(["error", "drop", "delay"]);

/** S3 fault rules in insertion order; each match spends one of the rule's `times`. */
export class S3FaultRegistry extends RuleList<S3FaultRule> {
  constructor() {
    super(checkS3Rule);
  }

  /** The fault for a request on `op` (of the object `key`, when it names one), if any. */
  take(op: S3Operation, key: string | undefined): S3Fault | undefined {
    return this.spend((rule) => opMatches(rule.op, op) && keyMatches(rule.key, key))?.fault;
  }
}

function opMatches(ops: S3FaultRule["op"], op: S3Operation): boolean {
  return ops === undefined || (Array.isArray(ops) ? ops : [ops]).includes(op);
}

function keyMatches(pattern: S3FaultRule["key"], key: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (key === undefined) return false;
  return typeof pattern === "string" ? key.includes(pattern) : new RegExp(pattern).test(key);
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
