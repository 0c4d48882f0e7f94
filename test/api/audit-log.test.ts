/** The audit log on its own: rotation by size, newest-first reads across files, ranges, bounded reads. */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AuditEntry, AuditLog } from "../../src/core/audit.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const logFile = () => {
  const d = mkdtempSync(join(tmpdir(), "tb-audit-"));
  dirs.push(d);
  return join(d, "audit", "audit.jsonl");
};
const entry = (i: number, device = "press-1"): AuditEntry => ({
  at: new Date(1_780_000_000_000 + i * 1000).toISOString(),
  token: "olga",
  device,
  point: "setpoint",
  newValue: i,
  outcome: "ok",
});
const values = (es: AuditEntry[]) => es.map((e) => e.newValue);

describe("AuditLog", () => {
  it("rotates by size: at most `keep` files, none above maxBytes, the oldest entries gone", async () => {
    const file = logFile();
    const size = Buffer.byteLength(`${JSON.stringify(entry(100))}\n`);
    const log = new AuditLog(file, { maxBytes: 10 * size, keep: 3 });
    for (let i = 100; i < 150; i++) await log.append(entry(i));
    const files = readdirSync(join(file, "..")).sort();
    expect(files).toEqual(["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]);
    for (const f of files) expect(statSync(join(file, "..", f)).size).toBeLessThanOrEqual(10 * size);
    const all = await log.read(1000);
    expect(values(all)).toEqual(Array.from({ length: 30 }, (_, i) => 149 - i)); // newest 30, newest first
  });

  it("reads newest first across the rotated files, by device and by time range", async () => {
    const file = logFile();
    const log = new AuditLog(file, { maxBytes: 2_000, keep: 10 });
    for (let i = 0; i < 60; i++) await log.append(entry(i, i % 2 ? "oven-2" : "press-1"));
    expect(readdirSync(join(file, "..")).length).toBeGreaterThan(2);
    expect(values(await log.read(3))).toEqual([59, 58, 57]);
    expect(values(await log.read(3, "oven-2"))).toEqual([59, 57, 55]);
    const range = { from: entry(10).at, to: entry(14).at };
    expect(values(await log.read(100, undefined, range))).toEqual([14, 13, 12, 11, 10]);
    expect(values(await log.read(2, "press-1", range))).toEqual([14, 12]);
  });

  it("the newest entries of a large log are read from its end only", async () => {
    const file = logFile();
    const log = new AuditLog(file, { maxBytes: 64 * 1024 * 1024 });
    await log.append(entry(0));
    const filler = `${JSON.stringify(entry(1))}\n`.repeat(40_000); // ~4.6 MB of older entries
    appendFileSync(file, filler);
    for (let i = 2; i < 12; i++) await log.append(entry(i));
    expect(statSync(file).size).toBeGreaterThan(4_000_000);
    expect(values(await log.read(10))).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    expect(log.lastReadBytes).toBeLessThanOrEqual(64 * 1024);
    expect(values(await log.read(3, undefined, { to: entry(1).at })).length).toBe(3);
  });

  it("skips a torn last line and lines split across read chunks stay whole", async () => {
    const file = logFile();
    const log = new AuditLog(file);
    const long = { ...entry(1), message: "x".repeat(100_000) }; // longer than one read chunk
    await log.append(long);
    await log.append(entry(2));
    appendFileSync(file, '{"at":"2026-'); // a crash mid-write
    const got = await log.read(10);
    expect(values(got)).toEqual([2, 1]);
    expect(got[1]!.message).toBe(long.message);
  });

  it("appends not awaited land in call order, and a read among them sees a consistent snapshot", async () => {
    const file = logFile();
    const log = new AuditLog(file, { maxBytes: 1_500, keep: 50 }); // rotates every ~10 entries
    const appends = Array.from({ length: 100 }, (_, i) => log.append(entry(i)));
    const reading = log.read(1000); // queued after the 100 appends: sees all of them
    const more = Array.from({ length: 100 }, (_, i) => log.append(entry(100 + i)));
    const between = values(await reading);
    expect(between).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    await Promise.all([...appends, ...more]);
    expect(values(await log.read(1000))).toEqual(Array.from({ length: 200 }, (_, i) => 199 - i));
    expect(readdirSync(join(file, "..")).length).toBeGreaterThan(10);
  });

  it("a failed append rejects its own caller only; the next ones are written", async () => {
    const file = logFile();
    mkdirSync(file, { recursive: true }); // the log's path is a directory: appending fails
    const log = new AuditLog(file);
    const failed = log.append(entry(1));
    await expect(failed).rejects.toThrow(/EISDIR/);
    rmSync(file, { recursive: true });
    await log.append(entry(2));
    expect(values(await log.read(10))).toEqual([2]);
  });
});
