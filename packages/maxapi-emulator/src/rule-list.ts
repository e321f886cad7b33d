/**
 * Rules in the order they were added, each good for its `times` matches (all of them when it has none): what the
 * task API's faults and the S3 server's faults have in common. A test adds rules and removes them with what `add`
 * returns; a request spends one match of the first live rule that fits it.
 */
export class RuleList<Rule extends { readonly times?: number | undefined }> {
  #rules: { readonly rule: Rule; left: number }[] = [];
  readonly #check: (rule: Rule) => void;

  /** `check` throws for a rule that could never fire, so a typo in a faults file fails at start. */
  constructor(check: (rule: Rule) => void) {
    this.#check = check;
  }

  add(rule: Rule): () => void {
    this.#check(rule);
    const active = { rule, left: rule.times ?? Number.POSITIVE_INFINITY };
    this.#rules.push(active);
    return () => {
      this.#rules = this.#rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.#rules = [];
  }

  /** The first rule with matches left that `fits`, after spending one of them. */
  protected spend(fits: (rule: Rule) => boolean): Rule | undefined {
    for (const active of this.#rules) {
      if (active.left <= 0 || !fits(active.rule)) continue;
      active.left -= 1;
      return active.rule;
    }
    return undefined;
  }
}
