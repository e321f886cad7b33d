/*
 * Virtual ids of `grok:` modules: `\0grok-image:<directive as base64url>/<slug>`.
 * - The directive is carried inside the id instead of in a lookup table, so an id the browser still holds after a
 *   dev-server restart loads without its importer being transformed first.
 * - base64url has no `.`, `?`, `%` or `/`: no image extension for other plugins to claim, no query for Vite to
 *   strip or add to, nothing that URL decoding in the dev server could change on the way back.
 * - The trailing slug is only for people: the bundler names a dynamically imported chunk after the id's last
 *   segment (`grok-a-paper-boat-C1jrGQAD.js`), and Vite prints ids in its messages.
 */

/** `\0` marks the id as virtual, so Vite's fs, asset and dep-scan plugins leave it alone. */
const VIRTUAL_PREFIX = "\0grok-image:";

/** A short, file-name-safe reminder of the prompt. */
function slug(prompt: string): string {
  const words = prompt
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `grok-${words.slice(0, 32).replace(/-+$/, "") || "image"}`;
}

/** The deterministic virtual id of a directive as written (`raw`), named after its normalized prompt. */
export function toVirtualId(raw: string, prompt: string): string {
  return `${VIRTUAL_PREFIX}${Buffer.from(raw, "utf8").toString("base64url")}/${slug(prompt)}`;
}

/** The directive of a virtual id, or `undefined` for other ids. Ignores the slug and any query Vite appends. */
export function fromVirtualId(id: string): string | undefined {
  if (!id.startsWith(VIRTUAL_PREFIX)) return undefined;
  const encoded = id.slice(VIRTUAL_PREFIX.length).split(/[/?]/)[0] ?? "";
  return Buffer.from(encoded, "base64url").toString("utf8");
}
