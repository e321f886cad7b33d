#!/usr/bin/env node
import { runCli } from "./run-cli.js";

// Ctrl-C stops polling and downloads cleanly: submitted tasks stay journaled and the next run resumes them
// without paying again. A second Ctrl-C exits at once.
const controller = new AbortController();
process.once("SIGINT", () => {
  controller.abort(new Error("interrupted (Ctrl-C)"));
  process.once("SIGINT", () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
