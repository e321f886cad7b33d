import { hash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type { FoundDirective, KnownSources, ScannedFile } from "../directive/scan-source.js";
import type { ReadyImage, ReadyOutput } from "../engine/engine-types.js";
import { sharpVersion } from "../image/sharp-version.js";
import { fileIdentity } from "../shared/file-identity.js";
import { importerFile } from "../shared/importer-file.js";
import { applySplices, type Splice } from "../shared/splices.js";
import type { Directive, OutputFormat, OutputShape, ResolvedOptions } from "../types.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * What each cached directive of this machine's last build loaded as: its generation key, what its module exports
 * besides the images, and its images with the identity of every file. A build whose manifest, options and plugin
 * are those of the record answers such a directive with one `stat` per file: no parse, no manifest read, no
 * variant named and checked. That work was most of what a cached build of thousands of images spent in the plugin.
 *
 * The record holds only while all it was made from holds:
 * - the manifest is the file it was made with (its inode, size and time: every write of it renames a new file in);
 * - the options, the plugin and sharp are the same (`hitContext`: a hash, so no option's value is written out);
 * - each file has the identity the record of verified variants gave it (verified-variants.ts).
 * Anything else is answered as before, and recorded. Per machine, in the cache's git-ignored `locks/`; losing it
 * costs one build the work it saves. Compact on purpose: reading it must cost far less than what it saves, and a
 * build holds it as one string with a line per entry, each parsed when asked for (see the format below `VERSION`).
 *
 * It also keeps what each module that imports recorded directives was rewritten into (`Splice`s, by module id and
 * a hash of its code): a module that comes back unchanged, whose directives all hold with the very entries it was
 * rewritten from, is rewritten again without being read for its imports or any import written anew. With 2,000
 * images the reading and writing of every import was the largest part of what a cached build spent in the plugin.
 *
 * And it keeps what the build's scan found in each source file, by the file's identity (`sources`): a page that
 * has not changed is planned from one `stat`, not read and searched again.
 */
export class HitRecord {
  readonly file: string;
  /** The manifest's identity the record was read with: it held then. */
  readonly manifest: string;
  readonly #context: string;
  /** The record as read, by directive (a line each), less what no longer holds. */
  readonly #hits: Map<string, string>;
  /** What this build loaded, or recorded anew. */
  readonly #used = new Map<string, string>();
  /** What the file holds, and the manifest identity it names. */
  #onDisk: ReadonlyMap<string, string>;
  #diskStamp: string | undefined;
  /**
   * The modules rewritten from recorded entries, by id: a line as read (rewritten from the entries the file holds:
   * only such modules are written), or one this build rewrote.
   */
  readonly #modules: Map<string, string | NewModule>;
  /** Whether what would be written differs from the file. */
  #changed = false;
  #keys: Set<string> | undefined;
  /** What the scan found in each source file, as read. */
  readonly #sources: ReadonlyMap<string, string>;
  /** What this build's scan found, when it ran: the files it listed, and only those, are kept. */
  #scanned: Map<string, string> | undefined;
  /**
   * The entries this build found holding (every file as recorded), by directive, with what a rewritten module
   * needs of each: an entry is checked once a build, whether ahead of use (`check`) or when first asked for.
   */
  readonly #held = new Map<string, HeldHit>();

  /** What earlier scans found in files that kept their identity; told what this build's scan reads. */
  readonly sources: KnownSources = {
    get: (file, identity) => {
      const line = this.#sources.get(file);
      if (line === undefined || secondField(line) !== identity) return undefined;
      const stored = parseRest<StoredSource>(line);
      if (!Array.isArray(stored?.[0]) || !Array.isArray(stored[1])) return undefined;
      this.#scannedNow().set(file, line);
      return toScannedFile(stored as StoredSource);
    },
    set: (file, identity, { found, leaving }) => {
      const stored: StoredFound[] = found.map(({ raw, index, written }) =>
        written === undefined ? [raw, index] : [raw, index, written],
      );
      this.#scannedNow().set(file, toLine(SOURCE, file, identity, [stored, [...leaving]]));
      this.#changed = true;
    },
  };

  private constructor(
    file: string,
    context: string,
    manifest: string,
    lines: { hits: Map<string, string>; modules: Map<string, string>; sources: Map<string, string> },
  ) {
    this.file = file;
    this.#context = context;
    this.manifest = manifest;
    this.#hits = lines.hits;
    this.#onDisk = new Map(lines.hits);
    this.#diskStamp = lines.hits.size > 0 ? manifest : undefined;
    this.#modules = lines.modules;
    this.#sources = lines.sources;
  }

  /**
   * The record at `file`, empty unless it was made with `manifestStamp` (the manifest's identity now) and
   * `context` (`hitContext`).
   */
  static async read(file: string, context: string, manifestStamp: string): Promise<HitRecord> {
    const lines = {
      hits: new Map<string, string>(),
      modules: new Map<string, string>(),
      sources: new Map<string, string>(),
    };
    try {
      const text = await readFile(file, "utf8");
      const headerEnd = text.indexOf("\n");
      const header = JSON.parse(headerEnd < 0 ? text : text.slice(0, headerEnd)) as Partial<RecordHeader>;
      if (header.version === VERSION && header.context === context && header.manifest === manifestStamp) {
        const byKind = { [HIT]: lines.hits, [MODULE]: lines.modules, [SOURCE]: lines.sources };
        for (let start = headerEnd + 1; start > 0 && start < text.length; ) {
          const end = text.indexOf("\n", start);
          // A slice of the file's text: the record holds one string per entry, parsed when a build asks for it.
          const line = text.slice(start, end < 0 ? text.length : end);
          start = end + 1;
          const name = firstField(line);
          if (name !== undefined) byKind[line[0] as Kind]?.set(name, line);
        }
      }
    } catch {
      // No record, or an unreadable one: everything is answered as before, and recorded anew.
    }
    return new HitRecord(file, context, manifestStamp, lines);
  }

  /** The generation key of a directive (as written) that the record holds: the manifest holds it. */
  keyOf(raw: string): string | undefined {
    const line = this.#hits.get(raw);
    return line === undefined ? undefined : secondField(line);
  }

  /** Whether the record holds a directive of this generation key. */
  holds(generationKey: string): boolean {
    this.#keys ??= new Set([...this.#hits.values()].map(secondField));
    return this.#keys.has(generationKey);
  }

  /**
   * Checks the entries of these directives (as written) now, each file with one `stat`, so that their first use
   * does not: a build calls it once its plan is made. The pages' transforms come in one burst, while the main
   * thread is the bundler's busiest, and the 2,000 `stat`s of a cached 2,000-image build were then 12 ms of it; made
   * here, they fall in the time the main thread waits on the bundler's own threads. An entry that does not hold is
   * forgotten, as its use would forget it.
   */
  check(raws: Iterable<string>): void {
    for (const raw of raws) {
      const line = this.#hits.get(raw);
      if (line !== undefined) this.#holding(raw, line);
    }
  }

  /**
   * What the directive loaded as, when the record holds it and every file is as it was recorded; undefined
   * otherwise (and the record forgets it). One `stat` per file, unless `check` made them, and no await.
   */
  hit(raw: string): RecordedHit | undefined {
    const line = this.#hits.get(raw);
    if (line === undefined) return undefined;
    const stored =
      this.#held.get(raw)?.line === line ? (parseRest<StoredHit>(line) as StoredHit) : this.#hold(raw, line);
    if (!stored) return undefined;
    // Indexes, not destructuring: thousands of hits a build, each answered in microseconds.
    const prompt = stored[4];
    const model = stored[5];
    const images: ReadyImage[] = [];
    for (const image of stored[6]) {
      const ready: Writable<ReadyImage> = {
        file: image[0],
        width: image[1],
        height: image[2],
        format: image[3],
        prompt,
        model,
        index: image[4],
        status: "cached",
      };
      if (image[5] !== null) ready.placeholder = image[5];
      const outputs = image[7];
      if (outputs !== null) {
        const shapes: ReadyOutput[] = [];
        for (const output of outputs) {
          shapes.push({ file: output[0], width: output[1], height: output[2], format: output[3] });
        }
        ready.outputs = shapes;
      }
      images.push(ready);
    }
    this.#use(raw, line);
    return {
      key: secondField(line),
      handoff: stored[0],
      alt: stored[1],
      pick: stored[2],
      as: stored[3],
      images,
    };
  }

  /**
   * The module `id`, whose code is `code` hashing to `codeHash`, rewritten as it was the last time, when every
   * directive it imports still holds with the entry it was rewritten from (each file as recorded: one `stat` per
   * file); undefined otherwise. The directives count as loaded, as `hit` counts one.
   */
  module(id: string, codeHash: string, code: string): RecordedModule | undefined {
    const known = this.#modules.get(id);
    const module = known === undefined ? undefined : this.#moduleOf(known, codeHash);
    if (!module) return undefined;
    const rewritten = applySplices(code, module.splices);
    if (rewritten === undefined) return undefined;
    const { raws, madeFrom } = module;
    const directives: RecordedDirective[] = [];
    const lines: string[] = [];
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i] as string;
      const line = this.#used.get(raw) ?? this.#hits.get(raw);
      if (line === undefined || line !== madeFrom(i)) return undefined;
      const held = this.#holding(raw, line);
      if (!held) return undefined;
      directives.push({ raw, key: secondField(line), handoff: held.handoff, as: held.as });
      lines.push(line);
    }
    for (let i = 0; i < raws.length; i++) this.#use(raws[i] as string, lines[i] as string);
    return { code: rewritten, directives };
  }

  /**
   * Records what the module `id`, its code hashing to `codeHash`, was rewritten into, when each of the directives
   * it imports (`raws`, as written) was loaded from this record or recorded by this build; otherwise nothing.
   */
  rememberModule(id: string, codeHash: string, raws: readonly string[], splices: readonly Splice[]): void {
    const madeFrom: string[] = [];
    for (const raw of raws) {
      const line = this.#used.get(raw);
      if (line === undefined) return;
      madeFrom.push(line);
    }
    const known = this.#modules.get(id);
    const was = known === undefined ? undefined : this.#moduleOf(known, codeHash);
    if (was && was.raws.length === raws.length && raws.every((_, i) => was.madeFrom(i) === madeFrom[i]))
      return;
    this.#modules.set(id, { codeHash, raws: [...raws], splices: [...splices], madeFrom });
    this.#changed = true;
  }

  /**
   * Records what a directive loaded as: its images, and the identity each of their files was verified with
   * (`identities`, by file; a file without one leaves the directive unrecorded).
   */
  remember(
    directive: Directive,
    images: readonly ReadyImage[],
    identities: ReadonlyMap<string, string>,
  ): void {
    const stored: StoredImage[] = [];
    for (const image of images) {
      const identity = identities.get(image.file);
      if (identity === undefined) return;
      let outputs: StoredOutput[] | null = null;
      if (image.outputs) {
        outputs = [];
        for (const output of image.outputs) {
          const id = identities.get(output.file);
          if (id === undefined) return;
          outputs.push([output.file, output.width, output.height, output.format, id]);
        }
      }
      const { file, width, height, format, index, placeholder } = image;
      stored.push([file, width, height, format, index, placeholder ?? null, identity, outputs]);
    }
    const first = images[0];
    if (!first) return;
    const { raw, handoff = "encoded", generationKey, alt, pick, output } = directive;
    const hit: StoredHit = [handoff, alt, pick, output.as, first.prompt, first.model, stored];
    this.#use(raw, toLine(HIT, raw, generationKey, hit));
  }

  /**
   * Leaves out the generation keys this build changed (generated or repaired): their entries are not the ones
   * recorded. One pass over the record, however many keys changed.
   */
  forget(changed: (generationKey: string) => boolean): void {
    for (const map of [this.#hits, this.#used]) {
      for (const [raw, line] of map) {
        if (!changed(secondField(line))) continue;
        map.delete(raw);
        this.#changed = true;
      }
    }
  }

  /**
   * Writes the record, made with the manifest whose identity is `manifestStamp`, when it differs from the file:
   * what this build loaded, and what it did not load that still holds (a build of one app of several, or one that
   * failed early, leaves the rest to the next). Best effort: a lost write costs the next build what the record saves.
   */
  async save(manifestStamp: string): Promise<void> {
    // Every change of an entry, a module or a source marks the record changed: unchanged, it is what the file holds
    // (less any source file the scan no longer lists, which costs nothing to keep until the next write).
    if (!this.#changed && manifestStamp === this.#diskStamp) return;
    const kept = new Map([...this.#hits, ...this.#used]);
    const header: RecordHeader = { version: VERSION, context: this.#context, manifest: manifestStamp };
    const lines = [JSON.stringify(header), ...kept.values()];
    // A module is kept only with the very entries it was rewritten from, and while its file is there (a page
    // deleted since is never asked for again; one of another app that shares the cache is).
    for (const [id, known] of this.#modules) {
      const module = fileGone(id) ? undefined : this.#moduleOf(known);
      if (module?.raws.every((raw, i) => kept.get(raw) === module.madeFrom(i))) {
        lines.push(
          typeof known === "string" ? known : toLine(MODULE, id, known.codeHash, [known.raws, known.splices]),
        );
      } else this.#modules.delete(id);
    }
    for (const line of (this.#scanned ?? this.#sources).values()) lines.push(line);
    this.#changed = false;
    this.#onDisk = kept;
    this.#diskStamp = manifestStamp;
    await writeFileAtomic(this.file, `${lines.join("\n")}\n`).catch(() => {});
  }

  /**
   * A module's directives, splices and the entry each directive was rewritten from, when its code hashes to
   * `codeHash` (any, when not given); undefined for a damaged line. A module as read was rewritten from the entries
   * the file holds: the record writes no module otherwise.
   */
  #moduleOf(known: string | NewModule, codeHash?: string): KnownModule | undefined {
    if (typeof known !== "string") {
      if (codeHash !== undefined && known.codeHash !== codeHash) return undefined;
      return { raws: known.raws, splices: known.splices, madeFrom: (i) => known.madeFrom[i] };
    }
    if (codeHash !== undefined && secondField(known) !== codeHash) return undefined;
    const stored = parseRest<[string[], Splice[]]>(known);
    if (!Array.isArray(stored?.[0]) || !Array.isArray(stored[1])) return undefined;
    const [raws, splices] = stored;
    const disk = this.#onDisk;
    return { raws, splices, madeFrom: (i) => disk.get(raws[i] as string) };
  }

  #scannedNow(): Map<string, string> {
    this.#scanned ??= new Map();
    return this.#scanned;
  }

  #use(raw: string, line: string): void {
    if (this.#used.get(raw) === line) return;
    if (this.#onDisk.get(raw) !== line) this.#changed = true;
    this.#used.set(raw, line);
  }

  /** What a module needs of the entry of `line`, checked this build already or now (`#hold`); else undefined. */
  #holding(raw: string, line: string): HeldHit | undefined {
    const held = this.#held.get(raw);
    if (held?.line === line) return held;
    return this.#hold(raw, line) && this.#held.get(raw);
  }

  /** The entry of `line`, when it is whole and every file of it is as recorded (remembered); else forgets it. */
  #hold(raw: string, line: string): StoredHit | undefined {
    const stored = holdingHit(line);
    if (!stored) return this.#drop(raw);
    this.#held.set(raw, { line, handoff: stored[0], as: stored[3] });
    return stored;
  }

  #drop(raw: string): undefined {
    this.#hits.delete(raw);
    this.#held.delete(raw);
    this.#changed = true;
    return undefined;
  }
}

/** What a recorded directive loads as (the module's exports besides the images come from the directive). */
export interface RecordedHit {
  readonly key: string;
  /** `Directive.handoff`: a host that encodes itself was handed the original's pixels. */
  readonly handoff: "encoded" | "source";
  readonly alt: string;
  readonly pick: number;
  readonly as: OutputShape;
  readonly images: ReadyImage[];
}

/** How a directive a recorded module imports was loaded. */
export interface RecordedDirective {
  readonly raw: string;
  readonly key: string;
  readonly handoff: "encoded" | "source";
  readonly as: OutputShape;
}

/** A recorded module rewritten again, and the directives it imports. */
export interface RecordedModule {
  readonly code: string;
  readonly directives: readonly RecordedDirective[];
}

/** `[file, width, height, format, identity]`: arrays, not objects, so thousands read fast. */
type StoredOutput = [string, number, number, OutputFormat, string];
/** `[file, width, height, format, index, placeholder, identity, outputs]`. */
type StoredImage = [
  string,
  number,
  number,
  OutputFormat,
  number,
  string | null,
  string,
  StoredOutput[] | null,
];
/** `[handoff, alt, pick, as, prompt, model, images]`: a hit's line holds its directive and key before it. */
type StoredHit = ["encoded" | "source", string, number, OutputShape, string, string, StoredImage[]];

/** `[raw, index]` or `[raw, index, written]`: a directive a source file holds (`FoundDirective`). */
type StoredFound = [string, number] | [string, number, string];
/** `[found, leaving]`: what the scan found in a source file (`ScannedFile`); its line holds its file and identity. */
type StoredSource = [StoredFound[], string[]];

function toScannedFile(stored: StoredSource): ScannedFile {
  const found: FoundDirective[] = [];
  for (const directive of stored[0]) {
    const [raw, index, written] = directive;
    found.push(written === undefined ? { raw, index } : { raw, index, written });
  }
  return { found, leaving: stored[1] };
}

/** An entry found holding this build: its line, and what a module rewritten from it needs. */
interface HeldHit {
  readonly line: string;
  readonly handoff: "encoded" | "source";
  readonly as: OutputShape;
}

/** A module this build rewrote from entries it loaded or recorded (`madeFrom`, their lines, in `raws` order). */
interface NewModule {
  readonly codeHash: string;
  readonly raws: readonly string[];
  readonly splices: readonly Splice[];
  readonly madeFrom: readonly string[];
}

/** A module's directives, its rewrite, and the line of the entry each directive was rewritten from. */
interface KnownModule {
  readonly raws: readonly string[];
  readonly splices: readonly Splice[];
  madeFrom(index: number): string | undefined;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The file's first line. */
interface RecordHeader {
  version: number;
  context: string;
  manifest: string;
}

/*
 * After the header, a line per entry: `kind TAB name TAB second TAB rest`, the name a JSON string (it holds no tab:
 * JSON escapes them), the second field tab-free, the rest JSON.
 * - a hit: `h`, the directive as written, its generation key, `StoredHit`;
 * - a module: `m`, its id, the hash of its code, `[raws, splices]`;
 * - a source file: `s`, its path, its identity, `StoredSource`.
 * A build keeps the lines as slices of the file's one string and parses an entry only when it is asked for: held
 * parsed through a build of thousands of images, the record was tens of thousands of objects for the collector to
 * move and mark again and again, which cost a cached build more than all of the plugin's own work.
 */
const HIT = "h";
const MODULE = "m";
const SOURCE = "s";
type Kind = typeof HIT | typeof MODULE | typeof SOURCE;

/** Bump when what is stored, or what a directive loads as, changes in a way the context does not capture. */
const VERSION = 2;

function toLine(kind: Kind, name: string, second: string, rest: unknown): string {
  return `${kind}\t${JSON.stringify(name)}\t${second}\t${JSON.stringify(rest)}`;
}

/** The name a line is kept by; undefined for a line without a name and a second field. */
function firstField(line: string): string | undefined {
  const end = line.indexOf("\t", 2);
  if (line[1] !== "\t" || end < 0 || line.indexOf("\t", end + 1) <= end + 1) return undefined;
  const quoted = line.slice(2, end);
  if (!quoted.includes("\\")) {
    return quoted.length >= 2 && quoted.startsWith('"') && quoted.endsWith('"')
      ? quoted.slice(1, -1)
      : undefined;
  }
  try {
    const name: unknown = JSON.parse(quoted);
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

/** A line's second field: a hit's key, a module's code hash, a source's identity ("" for a damaged line). */
function secondField(line: string): string {
  const start = line.indexOf("\t", 2) + 1;
  const end = line.indexOf("\t", start);
  return end < 0 ? "" : line.slice(start, end);
}

/** A line's rest, parsed; undefined for a damaged one. */
function parseRest<T>(line: string): Partial<T> | undefined {
  const second = line.indexOf("\t", line.indexOf("\t", 2) + 1);
  try {
    return second < 0 ? undefined : (JSON.parse(line.slice(second + 1)) as Partial<T>);
  } catch {
    return undefined;
  }
}

const NO_THROW = { throwIfNoEntry: false } as const;

/** Whether a module id names a file that is not there; virtual modules are never gone. */
function fileGone(id: string): boolean {
  const file = importerFile(id);
  return file !== undefined && isAbsolute(file) && statSync(file, NO_THROW) === undefined;
}

/** A hit's entry, when its line is whole and every file of it is there with the identity it was verified with. */
function holdingHit(line: string): StoredHit | undefined {
  const hit = parseRest<StoredHit>(line);
  const images = hit?.[6];
  if (!Array.isArray(images)) return undefined;
  for (const image of images) {
    if (!unchanged(image[0], image[6])) return undefined;
    const outputs = image[7];
    if (outputs !== null)
      for (const output of outputs) if (!unchanged(output[0], output[4])) return undefined;
  }
  return hit as StoredHit;
}

/** Whether the file is there with the identity it was verified with. */
function unchanged(file: string, identity: string): boolean {
  try {
    const info = statSync(file, NO_THROW);
    return info !== undefined && fileIdentity(info) === identity;
  } catch {
    // Unreadable: the full check says what is wrong.
    return false;
  }
}

/**
 * What the record must have been made with: this plugin's version and files, sharp's version (it names the
 * variants), and every option but those that have no say in what a cached directive loads as (the API, the mode,
 * the budget, the shared cache): a CI build in `frozen` mode reads the record a `generate` build left. An option
 * added later counts until it is listed here. A hash, so no option's value is written out.
 */
export function hitContext(options: ResolvedOptions): string {
  const {
    apiKey: _key,
    callBackUrl: _url,
    baseUrl: _api,
    mode: _mode,
    concurrency: _concurrency,
    timeoutMs: _timeout,
    maxCost: _budget,
    remoteCache: _shared,
    ...rest
  } = options;
  return hash("sha256", JSON.stringify([VERSION, pluginIdentity(), sharpVersion(), rest]), "hex");
}

let plugin: string | undefined;

/**
 * The package's version and this file's size and time: a published version never changes, and a build of the
 * package from source (where the version stays) writes its files anew.
 */
function pluginIdentity(): string {
  if (plugin !== undefined) return plugin;
  let version = "";
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    version = String(pkg.version);
  } catch {
    // A copy without its package.json: the file's identity still tells versions apart.
  }
  let self = "";
  try {
    const info = statSync(new URL(import.meta.url));
    self = `${info.size}:${info.mtimeMs}`;
  } catch {
    // Not a file of its own: the version alone.
  }
  plugin = `${version}:${self}`;
  return plugin;
}
