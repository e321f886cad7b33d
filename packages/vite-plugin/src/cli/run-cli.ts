import { readFileSync } from "node:fs";
import { cac } from "cac";
import { type CliIO, EXIT } from "./cli-io.js";
import { galleryCommand } from "./gallery-command.js";
import { generateCommand } from "./generate-command.js";
import { pruneCommand } from "./prune-command.js";
import { pullCommand } from "./pull-command.js";
import { pushCommand } from "./push-command.js";
import { scanCommand } from "./scan-command.js";
import { verifyCommand } from "./verify-command.js";

type Flags = Record<string, unknown>;

/** The last value of a string flag (a repeated flag arrives as an array, `type: [String]` keeps digits as text). */
function text(value: unknown): string | undefined {
  const last = Array.isArray(value) ? value.at(-1) : value;
  return last === undefined ? undefined : String(last);
}

function list(value: unknown): string[] | undefined {
  return value === undefined ? undefined : [value].flat().map(String);
}

/** `--no-config` arrives as `false`, no flag as cac's default `true`, `--config <file>` as the file. */
function configFlag(value: unknown): string | false | undefined {
  if (value === false) return false;
  return value === true || value === undefined ? undefined : text(value);
}

/** `--restore <time>` arrives as the time; `--restore` alone as `true`, which the String type turns into "true". */
function restoreFlag(value: unknown): string | boolean {
  if (value === undefined || value === false) return false;
  const time = value === true ? undefined : text(value);
  return time === undefined || time === "" || time === "true" ? true : time;
}

/** The arguments every command shares; flags a command does not define arrive undefined. */
function project(root: string | undefined, flags: Flags) {
  return {
    root,
    cacheDir: text(flags.cacheDir),
    tier: text(flags.tier),
    ignore: list(flags.ignore),
    config: configFlag(flags.config),
    json: flags.json === true,
  };
}

const TIER_HELP = "Default tier of directives without ?tier= (default: the config's tier, else lite)";
const IGNORE_HELP = "Skip files or folders matching the glob (repeatable)";

function version(): string {
  // dist/cli/ and src/cli/ are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Parses `argv` (the arguments after the program name) and runs one command. Returns the exit code: 0 success,
 * 1 a directive failed or damage was found, 2 bad usage or configuration (unknown command or flag included).
 * `--help` and `--version` print through cac, which writes to the process's stdout.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const cli = cac("grok-image");
  let run: (() => Promise<number>) | undefined;
  const str = { type: [String] };

  cli.option(
    "--cache-dir <dir>",
    "Cache directory (default: GROK_IMAGE_CACHE_DIR, else <root>/.grok-images)",
    str,
  );
  // `[file]` and untyped: with `--no-config` defined, cac defaults `config` to true, which a required value
  // would reject, and a typed option would turn `--no-config` into the string "false".
  cli.option(
    "--config [file]",
    "Vite or Astro config to read the plugin's options from (default: <root>/astro.config.*, else vite.config.*)",
  );
  cli.option("--no-config", "Read no config: options come from flags and the environment only");

  cli
    .command(
      "scan [root]",
      "List the grok: directives of the source tree, cached or missing, and what the misses cost",
    )
    .option("--tier <tier>", TIER_HELP, str)
    .option("--ignore <glob>", IGNORE_HELP, str)
    .option("--json", "Print a JSON report")
    .action((root: string | undefined, flags: Flags) => {
      run = () => scanCommand(project(root, flags), io);
    });

  cli
    .command("generate [root]", "Generate every cache miss ahead of a build (the paid step)")
    .option("--tier <tier>", TIER_HELP, str)
    .option("--mode <mode>", "generate, frozen or placeholder (default: generate)", str)
    .option("--concurrency <n>", "Tasks in flight at once: auto, or a number (default: auto)", str)
    .option(
      "--max-cost <usd>",
      "Refuse to start when the misses would cost more (default: GROK_IMAGE_MAX_COST)",
      str,
    )
    .option("--ignore <glob>", IGNORE_HELP, str)
    .option("--json", "Print a JSON result")
    .action((root: string | undefined, flags: Flags) => {
      run = () =>
        generateCommand(
          {
            ...project(root, flags),
            mode: text(flags.mode),
            concurrency: text(flags.concurrency),
            maxCost: text(flags.maxCost),
          },
          io,
        );
    });

  cli
    .command("verify [root]", "Check every cache file against its hash")
    .option("--json", "Print a JSON report")
    .action((root: string | undefined, flags: Flags) => {
      run = () => verifyCommand(project(root, flags), io);
    });

  cli
    .command(
      "prune [root]",
      "Move cache entries no directive uses and no build recorded using to the trash (kept 30 days)",
    )
    .option("--dry-run", "List what would be moved, move nothing")
    .option("--yes", "Prune without asking (on a terminal, prune otherwise only lists what it would move)")
    .option("--restore [time]", "Bring back the most recent trash folder, or the one of that time", str)
    .option("--force", "Prune even when directives fail to parse or none are found")
    .option("--ignore <glob>", IGNORE_HELP, str)
    .option("--json", "Print a JSON report")
    .action((root: string | undefined, flags: Flags) => {
      run = () =>
        pruneCommand(
          {
            ...project(root, flags),
            dryRun: flags.dryRun === true,
            force: flags.force === true,
            yes: flags.yes === true,
            restore: restoreFlag(flags.restore),
          },
          io,
        );
    });

  cli
    .command("gallery [root]", "Write an HTML contact sheet of every cached image")
    .option("--out <file>", "Output file (default: <root>/grok-gallery.html)", str)
    .option(
      "--tier <tier>",
      "Default tier of directives without ?tier= (to show where each image is used)",
      str,
    )
    .option("--ignore <glob>", IGNORE_HELP, str)
    .action((root: string | undefined, flags: Flags) => {
      run = () => galleryCommand({ ...project(root, flags), out: text(flags.out) }, io);
    });

  cli
    .command("push [root]", "Upload the local cache to the shared cache (remoteCache): what the store lacks")
    .option("--dry-run", "List what would be uploaded, upload nothing")
    .option("--json", "Print a JSON report")
    .action((root: string | undefined, flags: Flags) => {
      run = () => pushCommand({ ...project(root, flags), dryRun: flags.dryRun === true }, io);
    });

  cli
    .command("pull [root]", "Download the shared cache (remoteCache) into the local one, verified")
    .option("--only-manifest", "Only the originals of entries the local manifest.json already has")
    .option("--json", "Print a JSON report")
    .action((root: string | undefined, flags: Flags) => {
      run = () => pullCommand({ ...project(root, flags), onlyManifest: flags.onlyManifest === true }, io);
    });

  cli.help();
  cli.version(version());

  try {
    cli.parse(["node", "grok-image", ...argv], { run: false });
    if (cli.options.help || cli.options.version) return EXIT.ok;
    if (cli.options.config === true && argv.includes("--config")) {
      throw new Error("option `--config <file>` value is missing");
    }
    if (!cli.matchedCommand) {
      if (cli.args.length > 0) io.stderr.write(`Unknown command \`${cli.args[0]}\`.\n`);
      io.stderr.write(
        "Usage: grok-image <scan|generate|verify|prune|gallery|push|pull> [root] [options]; see grok-image --help\n",
      );
      return EXIT.usage;
    }
    cli.runMatchedCommand();
  } catch (error) {
    // cac reports unknown flags, missing flag values and extra arguments by throwing.
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\nSee grok-image --help.\n`);
    return EXIT.usage;
  }
  return run ? run() : EXIT.usage;
}
