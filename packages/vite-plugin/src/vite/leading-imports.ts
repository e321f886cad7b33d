/*
 * The import declarations a module starts with, read by a lexer of that one statement's grammar rather than by a
 * parser: a build reads every module that names a directive, and handing each to the bundler's parser (native
 * code, then an ESTree built in JavaScript) cost more than everything else the plugin does to it. The lexer stops
 * at the first thing it does not read with certainty (any other statement, an escape in an identifier or a
 * specifier, a phase import); everything from there on is simply not listed, so a doubt keeps an import as it is.
 */

export interface ImportBinding {
  /** The exported name: `default` for a default import. */
  imported: string;
  local: string;
}

export interface LeadingImport {
  /** Offsets of the statement in the code: from `import` to its `;` when it has one. */
  start: number;
  end: number;
  /** The module specifier; undefined when it holds an escape (read past, never inlined). */
  source: string | undefined;
  /**
   * Its default and named bindings (none for `import "x"`); undefined for a form that binds something else: a
   * namespace (`* as x`) or import attributes (`with { ... }`).
   */
  bindings: ImportBinding[] | undefined;
}

/** The import declarations at the start of `code`, before its first other statement. */
export function leadingImports(code: string): LeadingImport[] {
  const imports: LeadingImport[] = [];
  const lexer = new Lexer(code);
  if (code.startsWith("#!")) lexer.skipLine();
  for (;;) {
    lexer.skipTrivia();
    const statement = lexer.importDeclaration();
    if (!statement) return imports;
    imports.push(statement);
  }
}

const IDENTIFIER = /[\p{ID_Start}$_](?:[\p{ID_Continue}$]|\u200c|\u200d)*/uy;
/** What would run on from an identifier: more of it, or an escape the lexer does not decode. */
const IDENTIFIER_PART = /[\p{ID_Continue}$\\]|\u200c|\u200d/u;
/** Spaces and line ends as ECMAScript counts them (`\s` is the same set). */
const SPACE = /\s/;

class Lexer {
  #at = 0;
  readonly #code: string;

  constructor(code: string) {
    this.#code = code;
  }

  skipLine(): void {
    const end = this.#code.indexOf("\n", this.#at);
    this.#at = end < 0 ? this.#code.length : end;
  }

  /** Past spaces, line ends and comments. */
  skipTrivia(): void {
    const code = this.#code;
    while (this.#at < code.length) {
      const char = code[this.#at] as string;
      if (SPACE.test(char)) this.#at++;
      else if (code.startsWith("//", this.#at)) this.skipLine();
      else if (code.startsWith("/*", this.#at)) {
        const end = code.indexOf("*/", this.#at + 2);
        this.#at = end < 0 ? code.length : end + 2;
      } else return;
    }
  }

  /** One `import` declaration from here, or undefined (with the position left anywhere) for anything else. */
  importDeclaration(): LeadingImport | undefined {
    const start = this.#at;
    if (this.#word() !== "import") return undefined;
    this.skipTrivia();
    let bindings: ImportBinding[] | undefined = [];
    if (!this.#peekQuote()) {
      const clause = this.#importClause();
      if (clause === null) return undefined;
      bindings = clause;
      this.skipTrivia();
      if (!this.#take("from")) return undefined;
      this.skipTrivia();
    }
    const source = this.#string();
    if (source === null) return undefined;
    let end = this.#at;
    this.skipTrivia();
    if (this.#take("with") || this.#take("assert")) {
      if (!this.#attributes()) return undefined;
      bindings = undefined;
      end = this.#at;
      this.skipTrivia();
    }
    // The statement ends at its `;` when it has one; what follows it otherwise is read from its last token on.
    if (this.#code[this.#at] === ";") end = ++this.#at;
    else this.#at = end;
    return { start, end, source, bindings };
  }

  /** The clause between `import` and `from`: bindings, undefined for a namespace, null when it is not one. */
  #importClause(): ImportBinding[] | undefined | null {
    const bindings: ImportBinding[] = [];
    if (this.#peekIdentifier()) {
      bindings.push({ imported: "default", local: this.#word() as string });
      this.skipTrivia();
      if (this.#code[this.#at] !== ",") return bindings;
      this.#at++;
      this.skipTrivia();
    }
    const char = this.#code[this.#at];
    if (char === "*") {
      this.#at++;
      this.skipTrivia();
      if (!this.#take("as")) return null;
      this.skipTrivia();
      return this.#word() === undefined ? null : undefined;
    }
    if (char !== "{") return null;
    this.#at++;
    for (;;) {
      this.skipTrivia();
      if (this.#code[this.#at] === "}") break;
      const quoted = this.#peekQuote();
      const imported = quoted ? this.#string() : this.#word();
      if (typeof imported !== "string") return null;
      this.skipTrivia();
      let local = quoted ? undefined : imported;
      if (this.#take("as")) {
        this.skipTrivia();
        local = this.#word();
        this.skipTrivia();
      }
      if (local === undefined) return null;
      bindings.push({ imported, local });
      if (this.#code[this.#at] === ",") this.#at++;
      else if (this.#code[this.#at] !== "}") return null;
    }
    this.#at++;
    return bindings;
  }

  /** `{ type: "json" }` after `with`: string values, identifier or string keys. */
  #attributes(): boolean {
    this.skipTrivia();
    if (this.#code[this.#at] !== "{") return false;
    this.#at++;
    for (;;) {
      this.skipTrivia();
      if (this.#code[this.#at] === "}") {
        this.#at++;
        return true;
      }
      const key = this.#peekQuote() ? this.#string() : this.#word();
      if (typeof key !== "string") return false;
      this.skipTrivia();
      if (this.#code[this.#at] !== ":") return false;
      this.#at++;
      this.skipTrivia();
      if (!this.#peekQuote() || this.#string() === null) return false;
      this.skipTrivia();
      if (this.#code[this.#at] === ",") this.#at++;
      else if (this.#code[this.#at] !== "}") return false;
    }
  }

  #peekQuote(): boolean {
    const char = this.#code[this.#at];
    return char === '"' || char === "'";
  }

  #peekIdentifier(): boolean {
    IDENTIFIER.lastIndex = this.#at;
    return IDENTIFIER.test(this.#code);
  }

  /** Whether the word here is `keyword`, moving past it only when it is. */
  #take(keyword: string): boolean {
    const at = this.#at;
    if (this.#word() === keyword) return true;
    this.#at = at;
    return false;
  }

  /** The identifier or keyword here, moving past it; undefined when there is none or it runs on into an escape. */
  #word(): string | undefined {
    IDENTIFIER.lastIndex = this.#at;
    const match = IDENTIFIER.exec(this.#code);
    if (!match) return undefined;
    const end = this.#at + match[0].length;
    const next = this.#code[end];
    if (next !== undefined && IDENTIFIER_PART.test(next)) return undefined;
    this.#at = end;
    return match[0];
  }

  /**
   * A string literal here, moving past it: its value, undefined for one that holds an escape (its value is not
   * worked out here), null when there is no string literal here.
   */
  #string(): string | undefined | null {
    const code = this.#code;
    const quote = code[this.#at];
    if (quote !== '"' && quote !== "'") return null;
    let escaped = false;
    for (let at = this.#at + 1; at < code.length; at++) {
      const char = code[at];
      if (char === quote) {
        const value = escaped ? undefined : code.slice(this.#at + 1, at);
        this.#at = at + 1;
        return value;
      }
      if (char === "\n" || char === "\r") return null;
      if (char === "\\") {
        escaped = true;
        at++;
      }
    }
    return null;
  }
}
