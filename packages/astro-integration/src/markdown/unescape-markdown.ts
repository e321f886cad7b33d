/*
 * The Markdown plugins read a literal-space directive from the source as written, where backslash escapes and
 * entities are still in place. They decode them exactly as `findDirectives` in vite-plugin-grok-image does
 * (`src/directive/scan-source.ts`), which the CLI's `scan` and `prune` use: the same raw directive comes out of
 * both, so the build and the CLI agree on every generation key. `directive-spellings.test.ts` pins the agreement.
 */

const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** CommonMark destination decoding: backslash escapes of ASCII punctuation and character references. */
export function unescapeMarkdown(text: string): string {
  return text
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g, (all, dec, hex, name) => {
      if (name) return ENTITIES[name] as string;
      const code = Number.parseInt(dec ?? hex, dec ? 10 : 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    });
}
