/**
 * Guard (issue 18, item 4): unit tests control time instead of sleeping. Scans the unit tests under
 * src/, adapters/ and protocols/ for real-time waits: a call to something named `sleep`,
 * a promise resolved by a timer (`new Promise((r) => setTimeout(r, ms))`), or node:timers/promises.
 * A file that installs vitest's fake timers is exempt: its timers move only when the test says so.
 * The few files that must wait in real time (a real peer, a worker thread) are listed below, each
 * with its reason; a listed file that no longer matches fails too, so the list stays short. A wait
 * for a condition with a deadline goes through `until()` of test/helpers/until.ts (not scanned).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const SCANNED = ["src", "adapters", "protocols"];

/** Files allowed to wait in real time, and why. */
const ALLOWED: Record<string, string> = {
  "src/sdk/sink-conformance.test.ts":
    "broken sink variants whose defect is a delay (delivering after stop()), run by the sink kit against its real TCP peer",
  "src/north/buffer.test.ts":
    "the buffer's sync is answered by its worker thread (real file I/O): a condition polled with a deadline",
  "src/history/client.test.ts":
    "the history worker thread is real; restartMs 0 is shown by waiting 100 ms for a restart that must not come (to be replaced by an event by its owner)",
};

const PATTERNS: [RegExp, string][] = [
  [/\bsleep\s*\(/, "a sleep() call"],
  [/setTimeout\(\s*(?:r|res|resolve|done|ok)\s*,/, "a promise resolved by a timer"],
  [/setTimeout\(\s*\(\)\s*=>\s*(?:r|res|resolve|done|ok)\(\)\s*,/, "a promise resolved by a timer"],
  [/["']node:timers\/promises["']/, "node:timers/promises"],
];

/** The real-time waits in a test file's text, as `line: what`; none when it uses fake timers. */
function realTimeWaits(text: string): string[] {
  if (/\bvi\.useFakeTimers\(/.test(text)) return [];
  const found: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    const hit = PATTERNS.find(([re]) => re.test(line));
    if (hit) found.push(`${i + 1}: ${hit[1]}: ${line.trim()}`);
  }
  return found;
}

/** `*.test.ts` files under `dir` (repo-relative), not following links nor entering node_modules or dist. */
function unitTestFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "dist" ? [] : unitTestFiles(path);
    return e.isFile() && e.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("no fixed sleeps in unit tests", () => {
  it("recognises the patterns, and lets a fake-timer file move its own time", () => {
    expect(realTimeWaits("await sleep(50);")).toHaveLength(1);
    expect(realTimeWaits('import { setTimeout as wait } from "node:timers/promises";')).toHaveLength(1);
    expect(realTimeWaits("await new Promise((r) => setTimeout(r, 10));")).toHaveLength(1);
    expect(realTimeWaits("await new Promise((resolve) => setTimeout(() => resolve(), 10));")).toHaveLength(1);
    expect(realTimeWaits("await new Promise((r) => setImmediate(r));")).toEqual([]);
    expect(realTimeWaits("vi.useFakeTimers();\nawait new Promise((r) => setTimeout(r, 10));")).toEqual([]);
  });

  it("finds none outside the allow-list, and every listed file still needs its entry", () => {
    const files = SCANNED.flatMap(unitTestFiles);
    expect(files).toContain("src/core/device.test.ts"); // the scan sees the tree
    const offending: Record<string, string[]> = {};
    for (const f of files) {
      const waits = realTimeWaits(readFileSync(join(ROOT, f), "utf8"));
      if (waits.length > 0 && !(f in ALLOWED)) offending[f] = waits;
    }
    expect(
      offending,
      "control time (vi.useFakeTimers, ctx.clock) or wait for a condition (test/helpers/until.ts)",
    ).toEqual({});
    const stale = Object.keys(ALLOWED).filter(
      (f) => !files.includes(f) || realTimeWaits(readFileSync(join(ROOT, f), "utf8")).length === 0,
    );
    expect(stale, "allow-listed but no longer waiting in real time: remove from ALLOWED").toEqual([]);
  });
});
