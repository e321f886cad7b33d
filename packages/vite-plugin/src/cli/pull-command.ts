import { openCache } from "../cache/image-cache.js";
import { ENTRIES, keyOfEntryName } from "../storage/remote-layout.js";
import { type CliIO, EXIT, guardIo, reportError } from "./cli-io.js";
import { displayPath, type ProjectArgs } from "./load-project.js";
import { eachLimited, listNames, openSharedCacheSession } from "./shared-cache-command.js";

export interface PullArgs extends Pick<ProjectArgs, "root" | "cacheDir" | "config"> {
  /**
   * Only the originals of entries the local `manifest.json` already has (the setup where the manifest is kept in
   * git and the images in the shared cache): the manifest is not changed.
   */
  onlyManifest?: boolean | undefined;
  json?: boolean | undefined;
}

const DOWNLOADS = 8;

/**
 * `grok-image pull [root]`: brings the shared cache into the local one: every entry the local manifest lacks, and
 * every original a local entry lacks, each checked against its sha256 before it is written (atomically). A
 * damaged object in the store is reported and not used.
 *
 * Exit codes: 0 done; 1 damaged objects in the store, or local entries whose originals it does not have; 2 no
 * shared cache configured, or bad options.
 */
export async function pullCommand(args: PullArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  let session: Awaited<ReturnType<typeof openSharedCacheSession>> | undefined;
  try {
    session = await openSharedCacheSession({ ...args, json: args.json }, io);
    const { options, shared } = session;
    const cache = await openCache(options.cacheDir);
    const local = cache.keys();
    const remote = args.onlyManifest
      ? []
      : [...(await listNames(shared, ENTRIES, io.signal))]
          .map(keyOfEntryName)
          .filter((key): key is string => key !== undefined && cache.lookup(key) === undefined);
    let entries = 0;
    let completed = 0;
    const incomplete: string[] = [];
    await eachLimited(remote, DOWNLOADS, async (key) => {
      const imported = await shared.importEntry(cache, key, io.signal);
      if (imported.kind === "entry") entries++;
    });
    await eachLimited(local, DOWNLOADS, async (key) => {
      const entry = cache.lookup(key);
      if (!entry || (await cache.checkEntry(key)).ok) return;
      if (await shared.restoreOriginals(cache, key, entry, io.signal)) completed++;
      else incomplete.push(key);
    });
    const where = displayPath(options.root, options.cacheDir);
    const failed = incomplete.length > 0 || session.warnings.length > 0;
    if (args.json) {
      io.stdout.write(
        `${JSON.stringify({ version: 1, store: shared.store.url, entries, completed, incomplete: incomplete.sort(), problems: session.warnings }, null, 2)}\n`,
      );
    } else {
      for (const key of incomplete.sort()) {
        io.stderr.write(`missing  ${key}: the shared cache does not have intact originals for it\n`);
      }
      io.stdout.write(
        `Pulled ${entries} new entr${entries === 1 ? "y" : "ies"} and the originals of ${completed} more from ${shared.store.url} into ${where}.\n`,
      );
    }
    return failed ? EXIT.failed : EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  } finally {
    await session?.shared.close();
  }
}
