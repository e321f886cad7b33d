import { readFile } from "node:fs/promises";

/** The browser code of the dev loop, compiled on its own by `tsconfig.client.json` into `dist/browser/`. */
export type BrowserEntry = "dev-client" | "workbench-app";

const loaded = new Map<BrowserEntry, Promise<string>>();

/** The compiled script, read once; without its source-map comment (its map is not served beside it). */
export function browserCode(entry: BrowserEntry): Promise<string> {
  let code = loaded.get(entry);
  if (!code) {
    code = readFile(new URL(`../browser/client/${entry}.js`, import.meta.url), "utf8").then((text) =>
      text.replace(/\n\/\/# sourceMappingURL=.*$/m, ""),
    );
    loaded.set(entry, code);
  }
  return code;
}
