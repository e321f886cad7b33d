import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../engine/engine-types.js";
import { createProgress } from "./progress.js";

function stream(isTTY: boolean, columns = 120) {
  let text = "";
  return {
    isTTY,
    columns,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}

const model = "grok-imagine/text-to-image-lite";
const events: EngineEvent[] = [
  { type: "plan", directives: 3, generations: 3, hits: 0, misses: 3, estimatedCostUsd: 0.003 },
  { type: "task", key: "k1", prompt: "a fox", model, state: "submitted", taskId: "t1" },
  { type: "task", key: "k2", prompt: "a boat", model, state: "submitted", taskId: "t2" },
  {
    type: "task",
    key: "k3",
    prompt: "a kite",
    model,
    state: "resumed",
    taskId: "t3",
    detail: "already paid",
  },
  { type: "task", key: "k1", prompt: "a fox", model, state: "done", taskId: "t1" },
  { type: "task", key: "k2", prompt: "a boat", model, state: "failed", taskId: "t2", detail: "moderation" },
  { type: "warn", message: "something to know" },
  { type: "task", key: "k3", prompt: "a kite", model, state: "done", taskId: "t3" },
  {
    type: "summary",
    summary: { directives: 3, hits: 0, generated: 2, placeholders: 0, failed: 1, costUsd: 0.002, ms: 10 },
  },
];

describe("createProgress", () => {
  it("prints one plain line per event when the stream is not a terminal (the summary is the command's)", () => {
    const out = stream(false);
    const progress = createProgress(out, {});
    for (const event of events) progress.onEvent(event);
    progress.stop();
    const lines = out.text.trimEnd().split("\n");
    expect(lines).toHaveLength(events.length - 1);
    expect(out.text).not.toContain("\r");
    expect(lines[5]).toContain('failed "a boat"');
  });

  it("prints two lines per successful task when piped, whatever the API reports between them", () => {
    const out = stream(false);
    const progress = createProgress(out, {});
    const fox = { type: "task", key: "k1", prompt: "a fox", model, taskId: "t1" } as const;
    const boat = { type: "task", key: "k2", prompt: "a boat", model, taskId: "t2" } as const;
    progress.onEvent({
      type: "plan",
      directives: 2,
      generations: 2,
      hits: 0,
      misses: 2,
      estimatedCostUsd: 0.002,
    });
    for (const state of ["submitted", "SUBMITTED", "PENDING", "SUCCESS", "done"])
      progress.onEvent({ ...fox, state });
    for (const state of ["submitted", "PENDING", "PROCESSING", "SUBMITTED", "SUCCESS", "done"]) {
      progress.onEvent({ ...boat, state });
    }
    progress.stop();
    expect(out.text.trimEnd().split("\n")).toEqual([
      "2 directives → 2 generations: 0 cached, 2 to generate (about $0.002)",
      'submitted "a fox" [lite] task t1',
      'done "a fox" [lite] task t1',
      'submitted "a boat" [lite] task t2',
      'generating "a boat" [lite] task t2',
      'done "a boat" [lite] task t2',
    ]);
  });

  it("keeps the last line that said something on the live counter", () => {
    const out = stream(true);
    const progress = createProgress(out, {});
    progress.onEvent({
      type: "plan",
      directives: 1,
      generations: 1,
      hits: 0,
      misses: 1,
      estimatedCostUsd: 0.001,
    });
    const fox = { type: "task", key: "k1", prompt: "a fox", model, taskId: "t1" } as const;
    progress.onEvent({ ...fox, state: "submitted" });
    progress.onEvent({ ...fox, state: "PENDING" });
    expect(out.text.split("\r\x1b[2K").at(-1)).toMatch(
      /0\/1 · 1 running · \d+s {2}submitted "a fox" \[lite\] task t1$/,
    );
    progress.onEvent({ ...fox, state: "done" });
    expect(out.text.split("\r\x1b[2K").at(-1)).toMatch(/1\/1 · \d+s {2}done "a fox"/);
    progress.stop();
  });

  it("prints plain lines on a terminal when CI is set", () => {
    const out = stream(true);
    const progress = createProgress(out, { CI: "1" });
    for (const event of events) progress.onEvent(event);
    progress.stop();
    expect(out.text).not.toContain("\r");
  });

  it("redraws one live counter on a terminal, with failures and warnings as lines above it", () => {
    const out = stream(true, 60);
    const progress = createProgress(out, {});
    for (const event of events) progress.onEvent(event);
    expect(out.text).toContain("0/3 · 2 running");
    expect(out.text).toContain("2/3 · 1 failed · 1 running");
    expect(out.text).toContain("3/3 · 1 failed");
    expect(out.text).toContain('failed "a boat" [lite] task t2 (moderation)\n');
    expect(out.text).toContain("something to know\n");
    // Never wider than the terminal, or `\r` could not redraw it.
    for (const frame of out.text.split("\r\x1b[2K"))
      expect(frame.split("\n").at(-1)?.length ?? 0).toBeLessThan(60);
    progress.stop();
    expect(out.text.endsWith("\r\x1b[2K")).toBe(true);
    // What stays on screen: each printed line starts after a cleared live line, so no frame is mixed into it.
    const screen = out.text.split("\n").map((l) => l.split("\r\x1b[2K").at(-1));
    expect(screen).toContain("something to know");
    expect(screen.some((l) => l?.includes("[") && l.includes("something"))).toBe(false);
  });
});
