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

describe("SinkBuffer", async () => {
  it("reads oldest first across pending and committed rows; ack removes exactly what was read", async () => {
    const b = await SinkBuffer.open(file(), opts());
    b.append(readings(1, 5));
    b.sync();
    b.append(readings(6, 5));
    const r1 = await b.read(7);
    expect(seqs(r1.readings)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    b.append(readings(11, 1));
    b.ack(r1);
    expect(b.size).toBe(4);
    expect(seqs((await b.read(10)).readings)).toEqual([8, 9, 10, 11]);
    expect((await b.read(10)).readings[0]).toEqual(at(8));
    await b.close();
  });

  it("a reopened buffer has what was synced, minus what was acked (acks persist at the next sync)", async () => {
    const f = file();
    const b = await SinkBuffer.open(f, opts());
    b.append(readings(1, 10));
    b.ack(await b.read(3));
    await b.flush();
    b.append(readings(11, 5)); // never synced: what a kill -9 would lose
    expect(b.stats().syncedSeq).toBe(110);
    // Simulate kill -9: drop the object without close(); the file has only committed data.
    const again = await SinkBuffer.open(f, opts());
    expect(seqs((await again.read(100)).readings)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(again.stats().bytes).toBe(7 * size);
    await again.close();
  });

  it.each([
    ["drop-oldest", [6, 7, 8, 9, 10]],
    ["drop-newest", [1, 2, 3, 4, 5]],
  ] as const)("size bound, %s: keeps %j and counts the rest", async (overflow, kept) => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 5 * size, overflow }));
    b.append(readings(1, 3));
    b.sync();
    b.append(readings(4, 7));
    expect(seqs((await b.read(100)).readings)).toEqual(kept);
    expect(b.stats()).toMatchObject({ buffered: 5, droppedForSize: 5, bytes: 5 * size });
    await b.close();
  });

  it("age bound drops what waited longer than maxAgeMs, committed or pending, and reports the oldest age", async () => {
    let now = 1_000_000;
    const b = await SinkBuffer.open(file(), opts({ maxAgeMs: 5_000, now: () => now }));
    b.append(readings(1, 4));
    b.sync();
    now += 3_000;
    b.append(readings(5, 2));
    expect(b.stats().oldestAt).toBe(1_000_000);
    now += 2_500;
    b.sync();
    expect(b.stats()).toMatchObject({ buffered: 2, droppedForAge: 4, oldestAt: 1_003_000 });
    expect(seqs((await b.read(10)).readings)).toEqual([5, 6]);
    await b.close();
  });

  it("syncs on its timer", async () => {
    const f = file();
    const b = await SinkBuffer.open(f, opts({ syncIntervalMs: 20 }));
    b.append(readings(1, 3));
    for (let i = 0; i < 200 && b.stats().syncedSeq === null; i++) await new Promise((r) => setTimeout(r, 10));
    expect(b.stats().syncedSeq).toBe(103);
    const other = await SinkBuffer.open(f, opts());
    expect(other.size).toBe(3);
    await other.close();
    await b.close();
  });

  it("keeps small metadata (Sparkplug bdSeq)", async () => {
    const f = file();
    const b = await SinkBuffer.open(f, opts());
    expect(b.meta("bdSeq")).toBeUndefined();
    b.setMeta("bdSeq", "7");
    expect(b.meta("bdSeq")).toBe("7");
    await b.close();
    const again = await SinkBuffer.open(f, opts());
    expect(again.meta("bdSeq")).toBe("7");
    await again.close();
  });

  it("a row dropped while its read is being published is counted back once that read is acked", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 5 * size }));
    b.append(readings(1, 5));
    const r = await b.read(3); // 1..3 being published
    b.append(readings(6, 2)); // drop-oldest drops 1 and 2, which the publish still carries
    expect(b.stats()).toMatchObject({ buffered: 5, droppedForSize: 2 });
    b.ack(r); // delivered after all: 1 and 2 were not lost
    expect(b.stats()).toMatchObject({ buffered: 4, droppedForSize: 0 });
    expect(seqs((await b.read(10)).readings)).toEqual([4, 5, 6, 7]);
    await b.close();
  });

  it("reads the page after one still being published; acks in order count each read's dropped rows back", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 6 * size }));
    b.append(readings(1, 6));
    const first = await b.read(3);
    expect(b.sizeAfter(first.through)).toBe(3);
    const second = await b.read(3, first.through); // out while the first one is acknowledged
    expect(seqs(second.readings)).toEqual([4, 5, 6]);
    expect(b.sizeAfter(second.through)).toBe(0);
    b.append(readings(7, 4)); // drops 1..4: two of the first read, one of the second
    expect(b.stats()).toMatchObject({ buffered: 6, droppedForSize: 4 });
    b.ack(first);
    expect(b.stats()).toMatchObject({ buffered: 6, droppedForSize: 1 });
    b.ack(second);
    expect(b.stats()).toMatchObject({ buffered: 4, droppedForSize: 0 });
    expect(seqs((await b.read(10)).readings)).toEqual([7, 8, 9, 10]);
    await b.close();
  });

  it("a read delivered after an earlier one failed stays buffered, and what of it is dropped did arrive", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 6 * size }));
    b.append(readings(1, 6));
    const first = await b.read(3);
    const second = await b.read(3, first.through);
    b.append(readings(7, 4)); // drops 1..4
    // The first publish failed, the second was acknowledged: it cannot be acked before the first.
    b.deliveredOutOfTurn(second);
    expect(b.stats()).toMatchObject({ buffered: 6, droppedForSize: 3, deliveredLate: 1 });
    b.append(readings(11, 1)); // drops 5, which arrived
    expect(b.stats()).toMatchObject({ buffered: 6, droppedForSize: 3, deliveredLate: 2 });
    const again = await b.read(10); // a fresh read from the oldest: 6 goes again, after the failed ones
    expect(seqs(again.readings)).toEqual([6, 7, 8, 9, 10, 11]);
    b.ack(again);
    expect(b.stats()).toMatchObject({ buffered: 0, droppedForSize: 3, deliveredLate: 2 });
    await b.close();
  });

  it("a read that was never acked (publish failed) leaves its dropped rows counted", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 5 * size }));
    b.append(readings(1, 5));
    await b.read(3); // its publish fails: no ack
    b.append(readings(6, 2));
    const next = await b.read(10);
    expect(seqs(next.readings)).toEqual([3, 4, 5, 6, 7]);
    b.ack(next);
    expect(b.stats()).toMatchObject({ buffered: 0, droppedForSize: 2 });
    await b.close();
  });

  it("rows dropped while a page was being read are not returned", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 5 * size }));
    b.append(readings(1, 5));
    await b.flush();
    const reading = b.read(10);
    b.append(readings(6, 3)); // drops 1..3 while the worker reads the page
    const got = await reading;
    expect(seqs(got.readings)).toEqual([4, 5]);
    b.ack(got);
    expect(b.stats()).toMatchObject({ buffered: 3, droppedForSize: 3 });
    await b.close();
  });

  it("readings of a given-up publish that the client delivers later are not counted as dropped", async () => {
    const b = await SinkBuffer.open(file(), opts({ maxBytes: 5 * size }));
    const given = readings(1, 3);
    b.uncertainDelivery(given); // the publish timed out; the client still holds it
    b.append(given);
    b.append(readings(4, 4)); // drops 1 and 2
    expect(b.stats().droppedForSize).toBe(2);
    b.settled(given, true); // delivered after all: 1 and 2 arrived, 3 is a duplicate to come
    expect(b.stats().droppedForSize).toBe(0);
    b.append(readings(8, 1)); // drops 3, which arrived
    expect(b.stats()).toMatchObject({ buffered: 5, droppedForSize: 0 });
    const other = readings(20, 2);
    b.uncertainDelivery(other);
    b.append(other); // drops 4 and 5, never given up
    b.append(readings(22, 4)); // drops 6, 7, 8 and 20
    expect(b.stats().droppedForSize).toBe(6);
    b.settled(other, false); // that publish failed: 20 is lost, 21 still buffered
    expect(b.stats().droppedForSize).toBe(6);
    expect(seqs((await b.read(10)).readings)).toEqual([21, 22, 23, 24, 25]);
    await b.close();
  });
});
