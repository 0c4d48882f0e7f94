import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { reading } from "../../test/north/helpers.js";
import { type BufferOptions, SinkBuffer } from "./buffer.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const file = () => {
  const d = mkdtempSync(join(tmpdir(), "tb-buf-"));
  dirs.push(d);
  return join(d, "north", "s.sqlite");
};
const opts = (o: Partial<BufferOptions> = {}): BufferOptions => ({
  maxBytes: 10_000_000,
  maxAgeMs: 60_000,
  overflow: "drop-oldest",
  syncIntervalMs: 0,
  log: pino({ level: "silent" }),
  ...o,
});
// seq 101… and a constant value: every reading has the same JSON size.
const at = (seq: number) => reading(seq + 100, "d", `p${seq % 3}`, 0);
const readings = (from: number, n: number) => Array.from({ length: n }, (_, i) => at(from + i));
const seqs = (rs: { seq: number }[]) => rs.map((r) => r.seq - 100);
const size = JSON.stringify(at(1)).length;

describe("SinkBuffer", () => {
  it("reads oldest first across pending and committed rows; ack removes exactly what was read", () => {
    const b = SinkBuffer.open(file(), opts());
    b.append(readings(1, 5));
    b.sync();
    b.append(readings(6, 5));
    const r1 = b.read(7);
    expect(seqs(r1.readings)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    b.append(readings(11, 1));
    b.ack(r1);
    expect(b.size).toBe(4);
    expect(seqs(b.read(10).readings)).toEqual([8, 9, 10, 11]);
    expect(b.read(10).readings[0]).toEqual(at(8));
    b.close();
  });

  it("a reopened buffer has what was synced, minus what was acked (acks persist at the next sync)", () => {
    const f = file();
    const b = SinkBuffer.open(f, opts());
    b.append(readings(1, 10));
    b.ack(b.read(3));
    b.sync();
    b.append(readings(11, 5)); // never synced: what a kill -9 would lose
    expect(b.stats().syncedSeq).toBe(110);
    // Simulate kill -9: drop the object without close(); the file has only committed data.
    const again = SinkBuffer.open(f, opts());
    expect(seqs(again.read(100).readings)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(again.stats().bytes).toBe(7 * size);
    again.close();
  });

  it.each([
    ["drop-oldest", [6, 7, 8, 9, 10]],
    ["drop-newest", [1, 2, 3, 4, 5]],
  ] as const)("size bound, %s: keeps %j and counts the rest", (overflow, kept) => {
    const b = SinkBuffer.open(file(), opts({ maxBytes: 5 * size, overflow }));
    b.append(readings(1, 3));
    b.sync();
    b.append(readings(4, 7));
    expect(seqs(b.read(100).readings)).toEqual(kept);
    expect(b.stats()).toMatchObject({ buffered: 5, droppedForSize: 5, bytes: 5 * size });
    b.close();
  });

  it("age bound drops what waited longer than maxAgeMs, committed or pending, and reports the oldest age", () => {
    let now = 1_000_000;
    const b = SinkBuffer.open(file(), opts({ maxAgeMs: 5_000, now: () => now }));
    b.append(readings(1, 4));
    b.sync();
    now += 3_000;
    b.append(readings(5, 2));
    expect(b.stats().oldestAt).toBe(1_000_000);
    now += 2_500;
    b.sync();
    expect(b.stats()).toMatchObject({ buffered: 2, droppedForAge: 4, oldestAt: 1_003_000 });
    expect(seqs(b.read(10).readings)).toEqual([5, 6]);
    b.close();
  });

  it("syncs on its timer", async () => {
    const f = file();
    const b = SinkBuffer.open(f, opts({ syncIntervalMs: 20 }));
    b.append(readings(1, 3));
    await new Promise((r) => setTimeout(r, 80));
    expect(b.stats().syncedSeq).toBe(103);
    const other = SinkBuffer.open(f, opts());
    expect(other.size).toBe(3);
    other.close();
    b.close();
  });

  it("keeps small metadata (Sparkplug bdSeq)", () => {
    const f = file();
    const b = SinkBuffer.open(f, opts());
    expect(b.meta("bdSeq")).toBeUndefined();
    b.setMeta("bdSeq", "7");
    b.close();
    const again = SinkBuffer.open(f, opts());
    expect(again.meta("bdSeq")).toBe("7");
    again.close();
  });
});
