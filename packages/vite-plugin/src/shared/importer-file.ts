/**
 * The file a module id stands for (an importer, for messages; a module the hit record keeps):
 * `App.vue?vue&type=script` is App.vue; another plugin's virtual module (`\0...`) is no file at all.
 */
export function importerFile(importer: string | undefined): string | undefined {
  return importer === undefined || importer.startsWith("\0") ? undefined : importer.split("?")[0];
}
