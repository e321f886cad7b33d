import type { ViteDevServer } from "vite";
import { languageOf } from "../directive/scan-source.js";
import type { DirectiveUse, Engine, ReadyImage } from "../engine/engine-types.js";
import { type ProjectScan, scanProject } from "../plan/scan-project.js";
import type { ResolvedOptions } from "../types.js";
import { createDevLoop, type DevLoop, type OverlayError } from "./dev-loop.js";
import { newToken } from "./request-guard.js";
import { workbenchActions } from "./workbench-actions.js";
import { workbenchMiddleware } from "./workbench-middleware.js";
import { WORKBENCH_PATH } from "./workbench-page.js";
import { workbenchState } from "./workbench-state.js";

/*
 * Everything one dev server runs for the dev loop (SPEC section 11), set up when the server is configured: the
 * background swaps, the workbench's routes and token, and the line that says where the workbench is.
 */

export interface DevSessionDeps {
  readonly server: ViteDevServer;
  readonly options: ResolvedOptions;
  readonly engine: () => Engine;
  /** Folders whose Markdown is source (Astro's `srcDir`), scanned as the plan scans them. */
  readonly markdownRoots: readonly string[];
  /** Where the bundler writes: not scanned. */
  readonly outDirs: ReadonlySet<string>;
  /** The images each directive (as written) last loaded; the dev loop adds what it swaps in. */
  readonly loaded: Map<string, readonly ReadyImage[]>;
  /** What the dev server has committed to spend since it started. */
  readonly spentUsd: () => number;
  readonly write: (level: "info" | "warn" | "error", line: string) => void;
  readonly reportFailure: (error: unknown, use: DirectiveUse) => void;
  readonly overlayError: (error: unknown, use: DirectiveUse) => Promise<OverlayError>;
  /** Print the workbench's URL with Vite's own (plain Vite; Astro prints its banner itself). */
  readonly printUrl: boolean;
}

export interface DevSession {
  readonly loop: DevLoop;
  /** Whether an environment is one of this session's server (a restart closes the old server after the new one started). */
  owns(environment: { readonly name: string } | undefined): boolean;
  /** This server's token for workbench actions. */
  readonly token: string;
  close(): void;
}

export function startDevSession(deps: DevSessionDeps): DevSession {
  const { server, options } = deps;
  const token = newToken();
  const loop = createDevLoop({
    server,
    cacheDir: options.cacheDir,
    engine: deps.engine,
    remember: (use, images) => deps.loaded.set(use.directive.raw, images),
    reportFailure: deps.reportFailure,
    overlayError: deps.overlayError,
  });

  // The workbench shows the files as they are: any source change makes the next look scan the project again.
  let scanned: Promise<ProjectScan> | undefined;
  let changed = false;
  const onFile = (_event: string, file: string) => {
    if (languageOf(file) !== undefined) changed = true;
  };
  server.watcher.on("all", onFile);
  const scan = (): Promise<ProjectScan> => {
    if (!scanned || changed) {
      changed = false;
      scanned = scanProject(options, { markdownRoots: deps.markdownRoots, outDirs: deps.outDirs });
    }
    return scanned;
  };

  server.middlewares.use(
    workbenchMiddleware({
      token,
      state: async () =>
        workbenchState({
          options,
          engine: deps.engine(),
          loop,
          scan: await scan(),
          loaded: deps.loaded,
          spentUsd: deps.spentUsd(),
        }),
      actions: workbenchActions({
        options,
        scan,
        engine: deps.engine,
        loop: () => loop,
        log: (line) => deps.write("info", line),
      }),
      onError: (error) =>
        deps.write("error", `workbench: ${error instanceof Error ? error.message : String(error)}`),
    }),
  );

  if (deps.printUrl) {
    const printUrls = server.printUrls.bind(server);
    server.printUrls = () => {
      printUrls();
      const base = server.resolvedUrls?.local[0];
      if (base) server.config.logger.info(`  ➜  grok-image workbench: ${new URL(WORKBENCH_PATH, base).href}`);
    };
  }

  return {
    loop,
    owns: (environment) =>
      environment === undefined ||
      (server.environments as Record<string, unknown>)[environment.name] === environment,
    token,
    close() {
      server.watcher.off("all", onFile);
      loop.close();
    },
  };
}
