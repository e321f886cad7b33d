// Instructions a build executes, counted by valgrind's callgrind: a measure of work that the machine's load does
// not move, where wall and CPU time of one build swing by several percent from run to run on a shared machine.
// Node.js runs with `--predictable` (V8's garbage collector and compilers on the main thread, no concurrent
// tiering), and threads are counted apart, so the main thread's count is the JavaScript the build ran plus what
// V8 did for it. Node's compile cache must be held still as well (compile-cache.ts): with it, repeated builds of
// one site differ by under about 0.5% (the bundler's own threads and the order in which I/O completes). About 30
// times slower than a plain build.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface InstructionCount {
  /** Instructions of the process's main thread, in millions. */
  mainM: number;
  /** Of those, V8's garbage collector's own (its functions' self cost), in millions. */
  collectorM: number;
  /** Instructions of all its threads, in millions. */
  allM: number;
}

/** Runs `node --predictable <args>` in `cwd` under callgrind and counts what it executed. */
export async function countInstructions(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
): Promise<InstructionCount> {
  const dir = await mkdtemp(join(tmpdir(), "grok-callgrind-"));
  try {
    const valgrind = [
      "--tool=callgrind",
      // V8 writes and rewrites machine code as it runs.
      "--smc-check=all-non-file",
      "--separate-threads=yes",
      `--callgrind-out-file=${join(dir, "out")}`,
    ];
    await new Promise<void>((resolve, reject) => {
      const child = spawn("valgrind", [...valgrind, process.execPath, "--predictable", ...args], {
        cwd,
        env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let errors = "";
      child.stderr.on("data", (chunk: Buffer) => {
        errors = (errors + chunk).slice(-3000);
      });
      child.on("error", (error) =>
        reject(new Error(`valgrind could not be started (apt-get install valgrind): ${error.message}`)),
      );
      child.on("close", (code) =>
        code === 0 ? resolve() : reject(new Error(`valgrind in ${cwd} exited with ${code}:\n${errors}`)),
      );
    });
    // One file per thread: out-01 is the main thread.
    let mainM = 0;
    let collectorM = 0;
    let allM = 0;
    for (const name of (await readdir(dir)).filter((n) => n.startsWith("out-")).sort()) {
      const text = await readFile(join(dir, name), "utf8");
      const count = Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? 0) / 1e6;
      if (name === "out-01") {
        mainM = count;
        collectorM = collectorCost(text) / 1e6;
      }
      allM += count;
    }
    if (mainM === 0) throw new Error(`callgrind wrote no count for the main thread in ${dir}`);
    return { mainM, collectorM, allM };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/*
 * V8's garbage collector, told by the names of its functions (the name before its parameters: a mutator's function
 * that takes a heap slot is not one of them). Where a full collection falls against the rest of a build moves the
 * main thread's count by up to 300 million instructions from one build of a site to the next; without the
 * collector's own cost, builds of one site repeat within a fraction of a percent.
 */
const COLLECTOR =
  /Scaveng|Marking|Sweeper|MarkCompact|Evacuat|IteratePointers|RecordMigrated|SlotSet|RememberedSet|WriteBarrier|RecordWrite|heap::base::|GCTracer|LiveObject|MarkBit|Worklist|(?:^|\s)v8::internal::Heap::/;

/** A C++ function's name without its parameters (`(anonymous namespace)` is part of the name). */
function nameOnly(name: string): string {
  return name.replaceAll("(anonymous namespace)", "").split("(")[0] as string;
}

/**
 * The self cost of the collector's functions in one thread's callgrind output: each `fn=` opens a function whose
 * cost lines follow, names are given once (`fn=(7) name`) and then referred to (`fn=(7)`, also from `cfn=`), and
 * the cost line after a `calls=` is the callee's inclusive cost, counted in the callee already.
 */
function collectorCost(text: string): number {
  const names = new Map<string, boolean>();
  let inCollector = false;
  let afterCall = false;
  let cost = 0;
  for (const line of text.split("\n")) {
    const call = line.startsWith("cfn=");
    if (call || line.startsWith("fn=")) {
      const match = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (!match) continue;
      const id = match[1] as string;
      const name = match[2];
      if (name !== undefined) names.set(id, COLLECTOR.test(nameOnly(name)));
      if (!call) {
        inCollector = names.get(id) ?? false;
        afterCall = false;
      }
    } else if (line.startsWith("calls=")) {
      afterCall = true;
    } else if (/^[\d+*-]/.test(line)) {
      if (afterCall) afterCall = false;
      else if (inCollector) cost += Number(line.split(" ")[1] ?? 0);
    }
  }
  return cost;
}
