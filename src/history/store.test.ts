import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureLog, historyDir, openStore, historyReading as r } from "../../test/helpers/history.js";
import type { Reading } from "../schema/reading.js";
import { QUERIES } from "./sql.js";
import type { HistoryStore } from "./store.js";
import type { HistoryResult } from "./types.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
let dir: ReturnType<typeof historyDir>;
let store: HistoryStore;

beforeEach(() => {
  dir = historyDir();
  store = openStore(dir.file());
});
afterEach(() => {
  store.close();
  dir.cleanup();
});

const samples = (res: HistoryResult) => (res.kind === "samples" ? res.samples : expect.fail("not samples"));
const buckets = (res: HistoryResult) => (res.kind === "buckets" ? res.buckets : expect.fail("not buckets"));
const values = (res: HistoryResult) => samples(res).map((s) => s.value);

describe("append and query", () => {
  it("round-trips every kind of value, with quality and status", () => {
    const kinds: Reading["value"][] = [
      21.5,
      -3,
      0,
      1e300,
      true,
      false,
      "",
      'text with "quotes" and ünïcode',
      "9223372036854775807",
      "-18446744073709551615",
      [1, "a", null, [true]],
      { a: { b: 1 }, c: [null] },
      null,
      [],
      {},
    ];
    const readings = kinds.map((v, i) => r("d", "p", T0 + i, v));
    readings[3] = r("d", "p", T0 + 3, 1e300, { quality: "uncertain", status: "Clamped" });
    readings[12] = r("d", "p", T0 + 12, null, { quality: "bad", status: "Timeout" });
    expect(store.append(readings)).toBe(kinds.length);

    const got = samples(store.query("d", "p", { limit: 100 }));
    expect(got).toHaveLength(kinds.length);
    got.forEach((s, i) => {
      expect(s.ts).toBe(readings[i]!.ts);
      expect(s.value).toStrictEqual(kinds[i]);
      expect(s.quality).toBe(readings[i]!.quality);
      expect(s.status).toBe(readings[i]!.status);
    });
    expect("status" in got[0]!).toBe(false);
  });

  it("orders by ts whatever the arrival order", () => {
    store.append([r("d", "p", T0 + 30, "c"), r("d", "p", T0 + 10, "a")]);
    store.append([r("d", "p", T0 + 20, "b1"), r("d", "p", T0 + 20, "b2"), r("d", "p", T0 + 5, "first")]);
    const got = values(store.query("d", "p"));
    expect([got[0], got[1], got[4]]).toEqual(["first", "a", "c"]);
    expect(got.slice(2, 4).sort()).toEqual(["b1", "b2"]); // same ts: both kept, order unspecified
  });

  it("keeps series apart and returns nothing for an unknown point", () => {
    store.append([r("d", "p", T0, 1), r("d", "q", T0, 2), r("e", "p", T0, 3)]);
    expect(values(store.query("d", "p"))).toEqual([1]);
    expect(values(store.query("e", "p"))).toEqual([3]);
    expect(store.query("d", "nope")).toEqual({ kind: "samples", samples: [], truncated: false });
    expect(store.query("d", "nope", { bucketMs: 1000 })).toEqual({
      kind: "buckets",
      buckets: [],
      truncated: false,
    });
  });

  it("applies from and to inclusively, and limit with truncated", () => {
    store.append(Array.from({ length: 10 }, (_, i) => r("d", "p", T0 + i * 1000, i)));
    expect(values(store.query("d", "p", { from: T0 + 2000, to: T0 + 5000 }))).toEqual([2, 3, 4, 5]);
    expect(values(store.query("d", "p", { from: T0 + 2001, to: T0 + 4999 }))).toEqual([3, 4]);
    expect(values(store.query("d", "p", { from: T0 + 9000 }))).toEqual([9]);
    expect(values(store.query("d", "p", { to: T0 }))).toEqual([0]);
    const cut = store.query("d", "p", { from: T0 + 1000, limit: 3 });
    expect(values(cut)).toEqual([1, 2, 3]);
    expect(cut.truncated).toBe(true);
    expect(store.query("d", "p", { limit: 10 }).truncated).toBe(false);
  });
});

describe("downsampling", () => {
  it("computes min, max, avg and count per epoch-aligned bucket over numeric good values", () => {
    const M = 60_000; // T0 is minute-aligned
    store.append([
      r("d", "p", T0, 10), // bucket 0 starts exactly here
      r("d", "p", T0 + 1, 20),
      r("d", "p", T0 + M - 1, 60), // last ms of bucket 0
      r("d", "p", T0 + 5, 1000, { quality: "bad" }), // excluded: not good
      r("d", "p", T0 + 6, -1000, { quality: "uncertain" }), // excluded
      r("d", "p", T0 + 7, "12"), // excluded: not a number
      r("d", "p", T0 + 8, true), // excluded: not a number
      r("d", "p", T0 + M, -4), // bucket 1 starts here
      r("d", "p", T0 + M + 30_000, 2),
      r("d", "p", T0 + 3 * M + 1, 7), // bucket 3; bucket 2 is empty and omitted
      r("d", "p", T0 - 1, 99), // previous bucket, outside `from`
    ]);
    const got = buckets(store.query("d", "p", { from: T0, to: T0 + 10 * M, bucketMs: M }));
    expect(got).toEqual([
      { ts: new Date(T0).toISOString(), min: 10, max: 60, avg: 30, count: 3 },
      { ts: new Date(T0 + M).toISOString(), min: -4, max: 2, avg: -1, count: 2 },
      { ts: new Date(T0 + 3 * M).toISOString(), min: 7, max: 7, avg: 7, count: 1 },
    ]);
  });

  it("aligns buckets to the epoch, not to `from`, and limits the bucket count", () => {
    store.append(Array.from({ length: 6 }, (_, i) => r("d", "p", T0 + i * 1000, i)));
    const got = buckets(store.query("d", "p", { from: T0 + 500, bucketMs: 2000 }));
    expect(got.map((b) => [b.ts, b.count, b.avg])).toEqual([
      [new Date(T0).toISOString(), 1, 1], // value 0 at T0 is before `from`
      [new Date(T0 + 2000).toISOString(), 2, 2.5],
      [new Date(T0 + 4000).toISOString(), 2, 4.5],
    ]);
    const cut = store.query("d", "p", { bucketMs: 2000, limit: 2 });
    expect(buckets(cut)).toHaveLength(2);
    expect(cut.truncated).toBe(true);
    expect(() => store.query("d", "p", { bucketMs: 0 })).toThrow(RangeError);
  });
});

describe("durability and failures", () => {
  it("keeps data across close and reopen", () => {
    store.append([r("d", "p", T0, 1.25), r("d", "q", T0 + 1, { x: [1] })]);
    store.close();
    store = openStore(dir.file());
    expect(values(store.query("d", "p"))).toEqual([1.25]);
    expect(values(store.query("d", "q"))).toEqual([{ x: [1] }]);
    expect(store.stats()).toMatchObject({
      rows: 2,
      series: 2,
      appended: 0,
      oldest: new Date(T0).toISOString(),
    });
    store.append([r("d", "p", T0 + 2, 2)]);
    expect(values(store.query("d", "p"))).toEqual([1.25, 2]);
  });

  it("writes a batch in one transaction: a bad reading rolls it back, is counted and logged, never thrown", () => {
    store.close();
    const { log, lines } = captureLog();
    store = openStore(dir.file(), {}, log);
    const bad = { ...r("new", "p", T0, 1), ts: "not a time" };
    expect(store.append([r("new", "p", T0, 1), bad])).toBe(0);
    expect(store.stats()).toMatchObject({ rows: 0, errors: 1 });
    expect(lines().filter((l) => l.msg === "history append failed")).toHaveLength(1);
    // The rolled-back series is created again on the next batch.
    expect(store.append([r("new", "p", T0, 2)])).toBe(1);
    expect(values(store.query("new", "p"))).toEqual([2]);
    store.close();
    store = openStore(dir.file()); // the series row really exists: nothing orphaned
    expect(values(store.query("new", "p"))).toEqual([2]);
    store.close();
    expect(store.append([r("new", "p", T0, 3)])).toBe(0);
    expect(() => store.close()).not.toThrow();
  });

  it("uses WAL, and both queries read the (series, ts) index in order", () => {
    store.close();
    const db = new Database(dir.file(), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const plan = (sql: string, params: unknown) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[])
        .map((p) => p.detail)
        .join("; ");
    const raw = plan(QUERIES.samples, [1, 0, 9, 9]);
    const agg = plan(QUERIES.buckets, { b: 5, series: 1, from: 0, to: 9, limit: 9 });
    db.close();
    expect(raw).toMatch(/SEARCH samples USING INDEX samples_series_ts \(series=\? AND ts>\? AND ts<\?\)/);
    expect(raw).not.toMatch(/TEMP B-TREE/);
    expect(agg).toMatch(/USING COVERING INDEX samples_series_ts \(series=\? AND ts>\? AND ts<\?\)/);
    store = openStore(dir.file());
  });
});
