import { readFile } from "node:fs/promises";
import { DIRECTIVE_PREFIX, isDirectiveUrl } from "../markdown/markdown-specifier.js";

/** A collection entry field that `image()` left as a `grok:` string. */
export interface DirectiveField {
  /** The entry's file, relative to the project root. */
  readonly entry: string;
  /** The field's path in the entry's data (`cover`, `gallery.0`). */
  readonly field: string;
  readonly directive: string;
}

type Flat = readonly unknown[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at index `at` of devalue's flat form, or `undefined` for its special (negative) indices. */
function at(flat: Flat, index: unknown): unknown {
  return typeof index === "number" && index >= 0 ? flat[index] : undefined;
}

/** Follows `path` (keys or array indices) from the flat-form value at `index`. */
function valueAt(flat: Flat, index: unknown, path: readonly unknown[]): unknown {
  let node = at(flat, index);
  for (const segment of path) {
    if (typeof segment !== "string" && typeof segment !== "number") return undefined;
    if (!isRecord(node) && !Array.isArray(node)) return undefined;
    node = at(flat, (node as Record<string | number, unknown>)[segment]);
  }
  return node;
}

/**
 * Finds the entries whose `image()` fields hold a `grok:` directive, in the text of Astro's content data store
 * (`data-store.json`, written by `devalue.stringify`: a JSON array in which objects and arrays hold the indices of
 * their values). `image()` marks each image field in `imageImports`; Astro resolves only local paths there, so a
 * `grok:` value would stay a string and fail later as a remote image without dimensions. Anything this does not
 * recognise (another layout of the store) yields no findings rather than a false failure.
 */
export function findDirectiveFields(dataStore: string): DirectiveField[] {
  // The store holds every entry's data and rendered body (megabytes in a large docs site), and a site rarely has a
  // directive in an `image()` field: a store without one is not parsed. devalue writes a string as JSON does,
  // so a value that starts with the prefix is in the text as `"grok:`.
  if (!dataStore.includes(`"${DIRECTIVE_PREFIX}`)) return [];
  let flat: unknown;
  try {
    flat = JSON.parse(dataStore);
  } catch {
    return [];
  }
  if (!Array.isArray(flat)) return [];
  const found: DirectiveField[] = [];
  for (const node of flat) {
    if (!isRecord(node) || !("imageImports" in node) || !("data" in node)) continue;
    const entry = at(flat, node.filePath);
    const paths = at(flat, node.imageImports);
    if (!Array.isArray(paths)) continue;
    for (const pathIndex of paths) {
      const path = at(flat, pathIndex);
      if (!Array.isArray(path)) continue;
      const segments = path.map((segment) => at(flat, segment));
      const value = valueAt(flat, node.data, segments);
      if (typeof value === "string" && isDirectiveUrl(value)) {
        found.push({
          entry: typeof entry === "string" ? entry : "(an entry without a file)",
          field: segments.join("."),
          directive: value,
        });
      }
    }
  }
  return found;
}

/** `findDirectiveFields` of a data store file; none when the file does not exist (no collections). */
export async function findDirectiveFieldsIn(file: URL): Promise<DirectiveField[]> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? [] : findDirectiveFields(text);
}
