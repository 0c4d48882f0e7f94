import { describe, expect, it } from "vitest";
import type { Reading } from "../schema/reading.js";
import { decodeCompactBatch } from "../schema/reading-batch.js";
import { type Batch, Batcher, type BatchPolicy, batchJson, readingsOf, splitBatches } from "./batcher.js";

const r = (seq: number, device = "d1", point = `p${seq % 3}`, value: Reading["value"] = seq): Reading => ({
  gateway: "gw",
  device,
  point,
  value,
  type: typeof value === "number" ? "float64" : "string",
  quality: "good",
  ts: "2025-01-01T00:00:00.000Z",
  receivedAt: "2025-01-01T00:00:00.000Z",
  protocol: "simulator",
  seq,
});

/** The seqs of a batch's readings, decoded from its payload. */
const seqs = (x: Batch) => readingsOf([x]).map((y) => y.seq);

const policy = (p: Partial<BatchPolicy>): BatchPolicy => ({
  by: "device",
  maxReadings: 500,
  maxBytes: 1 << 20,
  lingerMs: 100,
  ...p,
});

describe("Batcher", () => {
  it("closes a batch at maxReadings and keeps the rest lingering", () => {
    const b = new Batcher(policy({ maxReadings: 4 }));
    b.add(
      [1, 2, 3, 4, 5, 6].map((s) => r(s)),
      1_000,
    );
    expect(b.size).toBe(6);
    const first = b.take(1_000);
    expect(first.map((x) => seqs(x))).toEqual([[1, 2, 3, 4]]);
    expect(b.dueAt(1_000)).toBe(1_100);
    expect(b.take(1_099)).toEqual([]);
    expect(b.take(1_100).map((x) => seqs(x))).toEqual([[5, 6]]);
    expect(b.size).toBe(0);
    expect(b.dueAt(1_200)).toBeUndefined();
  });

  it("never lets a batch's JSON pass maxBytes, and counts UTF-8 bytes exactly", () => {
    const readings = Array.from({ length: 200 }, (_, i) =>
      r(i + 1, "d1", "p", i % 7 === 0 ? "é€😀".repeat(i) : i),
    );
    const batches = splitBatches(readings, policy({ maxBytes: 2_048, maxReadings: 10_000 }));
    expect(batches.length).toBeGreaterThan(5);
    for (const [i, x] of batches.entries()) {
      const json = batchJson(x);
      expect(Buffer.byteLength(json)).toBe(x.payload.length);
      expect(x.payload.length).toBeLessThanOrEqual(2_048);
      expect(JSON.parse(json)).toEqual(readingsOf([x]));
      expect(x.count).toBe(readingsOf([x]).length);
      // Full: the next batch's first reading would not have fitted.
      const next = batches[i + 1];
      if (next)
        expect(
          x.payload.length + 1 + Buffer.byteLength(JSON.stringify(readingsOf([next])[0])),
        ).toBeGreaterThan(2_048);
    }
    expect(readingsOf(batches)).toEqual(readings);
  });

  it("sends a single reading larger than maxBytes alone", () => {
    const big = r(2, "d1", "p", "x".repeat(5_000));
    const batches = splitBatches([r(1), big, r(3)], policy({ maxBytes: 1_024 }));
    expect(batches.map((x) => seqs(x))).toEqual([[1], [2], [3]]);
  });

  it("groups by device or for the whole gateway, keeping the order per point", () => {
    const readings = [r(1, "a"), r(2, "b"), r(3, "a"), r(4, "c"), r(5, "b"), r(6, "a")];
    const byDevice = splitBatches(readings, policy({ maxReadings: 2 }));
    expect(byDevice.map((x) => [x.key, ...seqs(x)])).toEqual([
      ["a", 1, 3],
      ["b", 2, 5],
      ["c", 4],
      ["a", 6],
    ]);
    const byGateway = splitBatches(readings, policy({ by: "gateway", maxReadings: 4 }));
    expect(byGateway.map((x) => [x.key, ...seqs(x)])).toEqual([
      ["", 1, 2, 3, 4],
      ["", 5, 6],
    ]);
  });

  it("groups become due in the order they started; a group restarted after closing is due later", () => {
    const b = new Batcher(policy({ maxReadings: 2, lingerMs: 50 }));
    b.add([r(1, "a")], 0);
    b.add([r(2, "b")], 10);
    b.add([r(3, "a")], 20); // closes a
    b.add([r(4, "a")], 30); // a starts again, due at 80
    expect(b.dueAt(30)).toBe(30);
    expect(b.take(30).map((x) => x.key)).toEqual(["a"]);
    expect(b.dueAt(30)).toBe(60);
    expect(b.take(60).map((x) => [x.key, x.count])).toEqual([["b", 1]]);
    expect(b.take(79)).toEqual([]);
    expect(b.take(80).map((x) => [x.key, seqs(x)[0]])).toEqual([["a", 4]]);
  });

  it("lingerMs 0 hands out everything at once; take(all) empties it", () => {
    const b = new Batcher(policy({ lingerMs: 0 }));
    b.add([r(1, "a"), r(2, "b")], 5);
    expect(b.take(5).length).toBe(2);
    const c = new Batcher(policy({ lingerMs: 60_000 }));
    c.add([r(1, "a"), r(2, "b")], 5);
    expect(c.take(6)).toEqual([]);
    expect(readingsOf(c.take(6, true)).map((x) => x.seq)).toEqual([1, 2]);
    expect(c.size).toBe(0);
  });
});

describe("memory", () => {
  it("a group writes into the memory of a recycled batch, and never into that of one not recycled", () => {
    const ten = (from: number) => Array.from({ length: 10 }, (_, i) => r(from + i));
    const b = new Batcher(policy({ maxReadings: 10 }));
    const next = (from: number) => {
      b.add(ten(from), 0);
      return b.take(0)[0]!;
    };
    next(1); // the group's batches have their size from now on
    const second = next(11);
    const third = next(21);
    expect(second.memory).toBeDefined();
    expect(third.payload.buffer).not.toBe(second.payload.buffer);
    b.recycle([second]);
    expect(second.memory).toBeUndefined(); // given back once only
    const fourth = next(31);
    expect(fourth.payload.buffer).toBe(second.payload.buffer);
    expect(seqs(fourth)).toEqual(ten(31).map((x) => x.seq));
    expect(seqs(third)).toEqual(ten(21).map((x) => x.seq)); // not recycled: untouched
  });
});

describe("payload", () => {
  it("is the UTF-8 of the JSON array of the readings, as JSON.stringify writes it", () => {
    const readings = [r(1), r(2, "d1", "p", "é€😀"), r(3, "d1", "p", 'a"\\\n'), r(4, "d1", "p", Number.NaN)];
    const [b] = splitBatches(readings, policy({}));
    expect(b!.payload.toString("utf8")).toBe(JSON.stringify(readings));
    // Decoded back as JSON.stringify would have them: NaN, which JSON has not, as null.
    expect(readingsOf([b!])).toEqual(JSON.parse(JSON.stringify(readings)));
  });
});

describe("compact encoding", () => {
  it("sends compact Reading batches v1 within maxBytes, exact UTF-8 size, decoding to the readings", () => {
    const readings = Array.from({ length: 300 }, (_, i) =>
      r(i + 1, `d${i % 3}`, `p${i % 5}`, i % 7 === 0 ? "é€😀".repeat(i % 40) : i / 4),
    );
    for (const by of ["device", "gateway"] as const) {
      const batches = splitBatches(readings, policy({ by, encoding: "compact", maxBytes: 2_048 }));
      expect(batches.length).toBeGreaterThan(5);
      for (const x of batches) {
        expect(x.payload.length).toBeLessThanOrEqual(2_048);
        expect(decodeCompactBatch(JSON.parse(batchJson(x)))).toEqual(readingsOf([x]));
      }
      expect(readingsOf(batches).sort((a, b) => a.seq - b.seq)).toEqual(readings);
    }
    const plain = splitBatches(readings, policy({ by: "gateway", maxBytes: 1 << 20 }))[0]!;
    const compact = splitBatches(
      readings,
      policy({ by: "gateway", encoding: "compact", maxBytes: 1 << 20 }),
    )[0]!;
    expect(compact.payload.length).toBeLessThan(plain.payload.length * 0.6);
  });

  it("a compact batch holds one gateway's readings: another gateway starts a new batch", () => {
    const other = { ...r(2), gateway: "gw2" };
    const batches = splitBatches([r(1), other, r(3)], policy({ by: "gateway", encoding: "compact" }));
    expect(batches.map((x) => seqs(x))).toEqual([[1], [2], [3]]);
    expect(batches.map((x) => (JSON.parse(batchJson(x)) as { gateway: string }).gateway)).toEqual([
      "gw",
      "gw2",
      "gw",
    ]);
  });
});
