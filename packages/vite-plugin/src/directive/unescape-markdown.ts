/*
 * How a Markdown image destination is decoded into the directive it names. One function for the CLI's scan
 * (`scan-source.ts`) and the Astro integration's Markdown plugins (through the `vite-plugin-grok-image/markdown`
 * entry), which read a literal-space directive from the source as written: the same raw directive comes out of
 * both, so the build and the CLI agree on every generation key.
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
