import { hash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { FoundDirective, KnownSources, ScannedFile } from "../directive/scan-source.js";
import type { ReadyImage, ReadyOutput } from "../engine/engine-types.js";
import { sharpVersion } from "../image/sharp-version.js";
import { fileIdentity } from "../shared/file-identity.js";
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
 * costs one build the work it saves. Compact on purpose: reading it must cost far less than what it saves.
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
  /** The record as read, by directive, less what no longer holds. */
  readonly #hits: Map<string, StoredHit>;
  /** What this build loaded, or recorded anew. */
  readonly #used = new Map<string, StoredHit>();
  /** What the file holds, and the manifest identity it names. */
  #onDisk: ReadonlyMap<string, StoredHit>;
  #diskStamp: string | undefined;
  /** The modules rewritten from recorded entries, by id: as read, less what no longer holds, and this build's. */
  readonly #modules: Map<string, KnownModule>;
  /** Whether what would be written differs from the file. */
  #changed = false;
  #keys: Set<string> | undefined;
  /** What the scan found in each source file, as read. */
  readonly #sources: ReadonlyMap<string, StoredSource>;
  /** What this build's scan found, when it ran: the files it listed, and only those, are kept. */
  #scanned: Map<string, StoredSource> | undefined;

  /** What earlier builds' scans found in files that kept their identity; told what this build's scan reads. */
  readonly sources: KnownSources = {
    get: (file, identity) => {
      const stored = this.#sources.get(file);
      if (stored?.[1] !== identity) return undefined;
      this.#scannedNow().set(file, stored);
      return toScannedFile(stored);
    },
    set: (file, identity, { found, leaving }) => {
      const stored: StoredFound[] = found.map(({ raw, index, written }) =>
        written === undefined ? [raw, index] : [raw, index, written],
      );
      this.#scannedNow().set(file, [file, identity, stored, [...leaving]]);
      this.#changed = true;
    },
  };

  private constructor(
    file: string,
    context: string,
    manifest: string,
    hits: Map<string, StoredHit>,
    modules: Map<string, KnownModule>,
    sources: Map<string, StoredSource>,
  ) {
    this.file = file;
    this.#context = context;
    this.manifest = manifest;
    this.#hits = hits;
    this.#onDisk = new Map(hits);
    this.#diskStamp = hits.size > 0 ? manifest : undefined;
    this.#modules = modules;
    this.#sources = sources;
  }

  /**
   * The record at `file`, empty unless it was made with `manifestStamp` (the manifest's identity now) and
   * `context` (`hitContext`).
   */
  static async read(file: string, context: string, manifestStamp: string): Promise<HitRecord> {
    const hits = new Map<string, StoredHit>();
    const modules = new Map<string, KnownModule>();
    const sources = new Map<string, StoredSource>();
    try {
      const data = JSON.parse(await readFile(file, "utf8")) as Partial<RecordFile>;
      if (
        data.version === VERSION &&
        data.context === context &&
        data.manifest === manifestStamp &&
        Array.isArray(data.hits)
      ) {
        for (const hit of data.hits) if (Array.isArray(hit)) hits.set(hit[0], hit);
        for (const stored of Array.isArray(data.modules) ? data.modules : []) {
          if (!Array.isArray(stored) || !Array.isArray(stored[2]) || !Array.isArray(stored[3])) continue;
          const madeFrom: StoredHit[] = [];
          for (const raw of stored[2]) {
            const hit = hits.get(raw);
            if (hit) madeFrom.push(hit);
          }
          if (madeFrom.length === stored[2].length) modules.set(stored[0], { stored, madeFrom });
        }
        for (const stored of Array.isArray(data.sources) ? data.sources : []) {
          if (Array.isArray(stored) && Array.isArray(stored[2]) && Array.isArray(stored[3]))
            sources.set(stored[0], stored);
        }
      }
    } catch {
      // No record, or an unreadable one: everything is answered as before, and recorded anew.
    }
    return new HitRecord(file, context, manifestStamp, hits, modules, sources);
  }

  /** The generation key of a directive (as written) that the record holds: the manifest holds it. */
  keyOf(raw: string): string | undefined {
    return this.#hits.get(raw)?.[2];
  }

  /** Whether the record holds a directive of this generation key. */
  holds(generationKey: string): boolean {
    this.#keys ??= new Set([...this.#hits.values()].map((hit) => hit[2]));
    return this.#keys.has(generationKey);
  }

  /**
   * What the directive loaded as, when the record holds it and every file is as it was recorded; undefined
   * otherwise (and the record forgets it). One `stat` per file, no await.
   */
  hit(raw: string): RecordedHit | undefined {
    const stored = this.#hits.get(raw);
    if (!stored) return undefined;
    if (!filesHold(stored)) return this.#drop(raw);
    // Indexes, not destructuring: thousands of hits a build, each answered in microseconds.
    const prompt = stored[6];
    const model = stored[7];
    const images: ReadyImage[] = [];
    for (const image of stored[8]) {
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
    this.#use(raw, stored);
    return { key: stored[2], handoff: stored[1], alt: stored[3], pick: stored[4], as: stored[5], images };
  }

  /**
   * The module `id`, whose code is `code` hashing to `codeHash`, rewritten as it was the last time, when every
   * directive it imports still holds with the entry it was rewritten from (each file as recorded: one `stat` per
   * file); undefined otherwise. The directives count as loaded, as `hit` counts one.
   */
  module(id: string, codeHash: string, code: string): RecordedModule | undefined {
    const known = this.#modules.get(id);
    if (!known || known.stored[1] !== codeHash) return undefined;
    const rewritten = applySplices(code, known.stored[3]);
    if (rewritten === undefined) return undefined;
    const raws = known.stored[2];
    const directives: RecordedDirective[] = [];
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i] as string;
      const hit = known.madeFrom[i] as StoredHit;
      if ((this.#used.get(raw) ?? this.#hits.get(raw)) !== hit) return undefined;
      if (!filesHold(hit)) return this.#drop(raw);
      directives.push({ raw, key: hit[2], handoff: hit[1], as: hit[5] });
    }
    for (let i = 0; i < raws.length; i++) this.#use(raws[i] as string, known.madeFrom[i] as StoredHit);
    return { code: rewritten, directives };
  }

  /**
   * Records what the module `id`, its code hashing to `codeHash`, was rewritten into, when each of the directives
   * it imports (`raws`, as written) was loaded from this record or recorded by this build; otherwise nothing.
   */
  rememberModule(id: string, codeHash: string, raws: readonly string[], splices: readonly Splice[]): void {
    const madeFrom: StoredHit[] = [];
    for (const raw of raws) {
      const hit = this.#used.get(raw);
      if (!hit) return;
      madeFrom.push(hit);
    }
    const known = this.#modules.get(id);
    if (known?.stored[1] === codeHash && sameEntries(known.madeFrom, madeFrom)) return;
    this.#modules.set(id, { stored: [id, codeHash, [...raws], [...splices]], madeFrom });
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
    this.#use(raw, [raw, handoff, generationKey, alt, pick, output.as, first.prompt, first.model, stored]);
  }

  /**
   * Leaves out the generation keys this build changed (generated or repaired): their entries are not the ones
   * recorded. One pass over the record, however many keys changed.
   */
  forget(changed: (generationKey: string) => boolean): void {
    for (const map of [this.#hits, this.#used]) {
      for (const [raw, hit] of map) {
        if (!changed(hit[2])) continue;
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
    // A module is kept only with the very entries it was rewritten from.
    const modules: StoredModule[] = [];
    for (const [id, known] of this.#modules) {
      if (known.stored[2].every((raw, i) => kept.get(raw) === known.madeFrom[i])) modules.push(known.stored);
      else this.#modules.delete(id);
    }
    this.#changed = false;
    this.#onDisk = kept;
    this.#diskStamp = manifestStamp;
    const data: RecordFile = {
      version: VERSION,
      context: this.#context,
      manifest: manifestStamp,
      hits: [...kept.values()],
      modules,
      sources: [...(this.#scanned ?? this.#sources).values()],
    };
    await writeFileAtomic(this.file, JSON.stringify(data)).catch(() => {});
  }

  #scannedNow(): Map<string, StoredSource> {
    this.#scanned ??= new Map();
    return this.#scanned;
  }

  #use(raw: string, hit: StoredHit): void {
    if (this.#used.get(raw) === hit) return;
    if (this.#onDisk.get(raw) !== hit) this.#changed = true;
    this.#used.set(raw, hit);
  }

  #drop(raw: string): undefined {
    this.#hits.delete(raw);
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
/** `[raw, handoff, key, alt, pick, as, prompt, model, images]`. */
type StoredHit = [
  string,
  "encoded" | "source",
  string,
  string,
  number,
  OutputShape,
  string,
  string,
  StoredImage[],
];

/** `[id, codeHash, raws, splices]`: a module, the hash of its code, the directives it imports, its rewrite. */
type StoredModule = [string, string, string[], Splice[]];

/** `[raw, index]` or `[raw, index, written]`: a directive a source file holds (`FoundDirective`). */
type StoredFound = [string, number] | [string, number, string];
/** `[file, identity, found, leaving]`: what the scan found in a source file (`ScannedFile`). */
type StoredSource = [string, string, StoredFound[], string[]];

function toScannedFile(stored: StoredSource): ScannedFile {
  const found: FoundDirective[] = [];
  for (const directive of stored[2]) {
    const [raw, index, written] = directive;
    found.push(written === undefined ? { raw, index } : { raw, index, written });
  }
  return { found, leaving: stored[3] };
}

/** A module as stored, and the entries of its directives (in `raws` order) it was rewritten from. */
interface KnownModule {
  readonly stored: StoredModule;
  readonly madeFrom: readonly StoredHit[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

interface RecordFile {
  version: number;
  context: string;
  manifest: string;
  hits: StoredHit[];
  modules?: StoredModule[];
  sources?: StoredSource[];
}

/** Bump when what is stored, or what a directive loads as, changes in a way the context does not capture. */
const VERSION = 1;

const NO_THROW = { throwIfNoEntry: false } as const;

/** Whether every file of a recorded directive is there with the identity it was verified with. */
function filesHold(hit: StoredHit): boolean {
  for (const image of hit[8]) {
    if (!unchanged(image[0], image[6])) return false;
    const outputs = image[7];
    if (outputs !== null) for (const output of outputs) if (!unchanged(output[0], output[4])) return false;
  }
  return true;
}

function sameEntries(a: readonly StoredHit[], b: readonly StoredHit[]): boolean {
  return a.length === b.length && a.every((hit, i) => hit === b[i]);
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
