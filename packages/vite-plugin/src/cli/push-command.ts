import { existsSync } from "node:fs";
import { openCache } from "../cache/image-cache.js";
import { GrokImageError } from "../errors.js";
import { ENTRIES, entryName, ORIGINALS, originalName, serializeEntry } from "../storage/remote-layout.js";
import { type CliIO, EXIT, formatBytes, guardIo, reportError } from "./cli-io.js";
import { displayPath, type ProjectArgs } from "./load-project.js";
import { eachLimited, listNames, openSharedCacheSession } from "./shared-cache-command.js";

export interface PushArgs extends Pick<ProjectArgs, "root" | "cacheDir" | "config"> {
  /** List what would be uploaded, upload nothing. */
  dryRun?: boolean | undefined;
  json?: boolean | undefined;
}

/** Uploads at once; each is one PUT of up to a few MB. */
const UPLOADS = 8;

/**
 * `grok-image push [root]`: uploads every entry of the local cache, and its originals, that the shared cache does
 * not have. Originals are read and checked against their sha256 first: a damaged local file is reported and never
 * uploaded. Nothing in the store is overwritten (create-only writes): an entry the store holds in another version
 * (two machines generated the key before they shared a cache) is kept as it is, and listed.
 *
 * Exit codes: 0 done; 1 a local original is damaged; 2 no shared cache configured, or bad options.
 */
export async function pushCommand(args: PushArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  let session: Awaited<ReturnType<typeof openSharedCacheSession>> | undefined;
  try {
    session = await openSharedCacheSession({ ...args, json: args.json }, io);
    const { options, shared } = session;
    const where = displayPath(options.root, options.cacheDir);
    if (!existsSync(options.cacheDir)) {
      if (!args.json) io.stdout.write(`Nothing to push: ${where} does not exist.\n`);
      else
        io.stdout.write(
          `${JSON.stringify({ version: 1, store: shared.store.url, entries: 0, originals: 0, bytes: 0, present: 0, conflicts: [], damaged: [] }, null, 2)}\n`,
        );
      return EXIT.ok;
    }
    const cache = await openCache(options.cacheDir);
    const [entries, originals] = await Promise.all([
      listNames(shared, ENTRIES, io.signal),
      listNames(shared, ORIGINALS, io.signal),
    ]);
    const keys = cache.keys();
    const damaged: string[] = [];
    const conflicts: string[] = [];
    let uploadedEntries = 0;
    let uploadedOriginals = 0;
    let bytes = 0;
    let present = 0;
    await eachLimited(keys, UPLOADS, async (key) => {
      const entry = cache.lookup(key);
      if (!entry) return;
      if (entries.has(entryName(key))) {
        present++;
        return;
      }
      for (const record of entry.originals) {
        if (originals.has(originalName(record))) continue;
        if (args.dryRun) {
          const problem = await cache.checkEntry(key);
          if (!problem.ok) {
            damaged.push(...problem.problems);
            return;
          }
          uploadedOriginals++;
        } else {
          try {
            if (await shared.uploadOriginal(cache, record)) uploadedOriginals++;
          } catch (error) {
            if (!GrokImageError.isInstance(error) || error.code !== "GROK_CACHE_CORRUPT") throw error;
            damaged.push(error.message);
            return;
          }
        }
        originals.add(originalName(record));
        bytes += record.bytes;
      }
      if (args.dryRun) {
        uploadedEntries++;
        return;
      }
      const put = await shared.store.put(entryName(key), serializeEntry(key, entry), {
        condition: { ifNoneMatch: "*" },
        contentType: "application/json",
      });
      if (put.ok) uploadedEntries++;
      else conflicts.push(key);
    });
    const verb = args.dryRun ? "Would push" : "Pushed";
    if (args.json) {
      io.stdout.write(
        `${JSON.stringify({ version: 1, store: shared.store.url, dryRun: args.dryRun === true, entries: uploadedEntries, originals: uploadedOriginals, bytes, present, conflicts: conflicts.sort(), damaged }, null, 2)}\n`,
      );
    } else {
      for (const problem of damaged) io.stderr.write(`damaged  ${problem}\n`);
      for (const key of conflicts.sort()) {
        io.stderr.write(
          `kept     ${key}: the shared cache holds another generation of it; its entry was left as it is\n`,
        );
      }
      io.stdout.write(
        `${verb} ${uploadedEntries} entr${uploadedEntries === 1 ? "y" : "ies"} and ${uploadedOriginals} original${uploadedOriginals === 1 ? "" : "s"} (${formatBytes(bytes)}) from ${where} to ${shared.store.url}; ${present} already there.\n`,
      );
    }
    return damaged.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  } finally {
    await session?.shared.close();
  }
}
