import { existsSync } from "node:fs";
import path from "node:path";
import { openCache } from "../cache/image-cache.js";
import type { VerifyProblem, VerifyReport } from "../cache/verify-cache.js";
import { GrokImageError } from "../errors.js";
import { ORIGINALS } from "../storage/remote-layout.js";
import type { ResolvedOptions } from "../types.js";
import { type CliIO, EXIT, guardIo, reportError } from "./cli-io.js";
import { displayPath, type ProjectArgs, resolveCliOptions } from "./load-project.js";
import { askSharedCache, listNames } from "./shared-cache-command.js";

export interface VerifyArgs extends Pick<ProjectArgs, "root" | "cacheDir" | "config"> {
  /** Print the cache's {@link VerifyReport} as JSON on stdout. */
  json?: boolean | undefined;
}

/**
 * `grok-image verify [root]`: every original against its sha256, every manifest reference present, every
 * variant against its sidecar. Exit 1 on any damage, 0 otherwise (notes such as unreferenced files do not count).
 */
export async function verifyCommand(args: VerifyArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  try {
    const options = await resolveCliOptions(args, io);
    const report = await inSharedCache(await verifyDir(options.cacheDir), options);
    if (args.json) {
      io.stdout.write(`${JSON.stringify({ version: 1, cacheDir: options.cacheDir, ...report }, null, 2)}\n`);
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    const where = displayPath(options.root, options.cacheDir);
    if (report.entries === 0 && report.problems.length === 0 && report.variants === 0) {
      io.stdout.write(`Nothing to verify: ${where} holds no cached images.\n`);
      return EXIT.ok;
    }
    for (const problem of report.problems) io.stdout.write(`damaged  ${problem.message}\n`);
    for (const note of report.notes) io.stdout.write(`note     ${note}\n`);
    const checked = `${report.entries} entries, ${report.originals} originals, ${report.variants} variants in ${where}`;
    if (report.ok) {
      io.stdout.write(`Checked ${checked}: all intact.\n`);
      return EXIT.ok;
    }
    io.stdout.write(`Checked ${checked}: ${report.problems.length} damaged.\n`);
    io.stderr.write(
      "Damaged originals are generated again (a new paid task) by the next build in generate mode, or restore them " +
        "from version control. Damaged variants are rebuilt for free once deleted.\n",
    );
    return EXIT.failed;
  } catch (error) {
    return reportError(io, error);
  }
}

/**
 * With a shared cache, an original that is not here is not damage when the store holds it: a team may keep the
 * manifest in git and the image bytes only in the store (SPEC section 12), and a build fetches them (verified) on
 * use. Those become notes; one the store lacks too stays damage. A store that cannot be read changes nothing but
 * a note.
 */
async function inSharedCache(report: VerifyReport, options: ResolvedOptions): Promise<VerifyReport> {
  const remote = options.remoteCache;
  if (!remote || !report.problems.some((problem) => problem.absent)) return report;
  const asked = await askSharedCache(options, (shared) => listNames(shared, ORIGINALS));
  if (!("value" in asked)) {
    const note = `the shared cache could not be read to look for missing originals: ${asked.unreadable}`;
    return { ...report, notes: [...report.notes, note] };
  }
  const inStore = (problem: VerifyProblem) =>
    problem.absent === true && asked.value.has(`${ORIGINALS}${path.basename(problem.file)}`);
  const problems = report.problems.filter((problem) => !inStore(problem));
  const notes = report.problems
    .filter(inStore)
    .map(
      (problem) => `${problem.file} is not here but in the shared cache ${remote.url}: a build fetches it`,
    );
  return { ...report, ok: problems.length === 0, problems, notes: [...notes, ...report.notes] };
}

async function verifyDir(dir: string): Promise<VerifyReport> {
  const empty: VerifyReport = { ok: true, entries: 0, originals: 0, variants: 0, problems: [], notes: [] };
  if (!existsSync(dir)) return empty;
  try {
    return await (await openCache(dir)).verify();
  } catch (error) {
    // An unreadable manifest stops the cache from opening; it is the finding, not a crash.
    if (!GrokImageError.isInstance(error) || error.code !== "GROK_CACHE_CORRUPT") throw error;
    return { ...empty, ok: false, problems: [{ kind: "manifest", file: dir, message: error.message }] };
  }
}
