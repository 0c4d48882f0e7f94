import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { historyDir, openStore, historyReading as r } from "../../test/helpers/history.js";
import type { HistoryStore } from "./store.js";
import type { HistoryResult } from "./types.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const HOUR = 3_600_000;
let dir: ReturnType<typeof historyDir>;
let store: HistoryStore | undefined;
let now = T0;

beforeEach(() => {
  dir = historyDir();
  now = T0;
});
afterEach(() => {
  store?.close();
  dir.cleanup();
});

const values = (res: HistoryResult) => (res.kind === "samples" ? res.samples.map((s) => s.value) : []);

function countRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM samples").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("retention by age", () => {
  const pointRetention = (_device: string, point: string) =>
    point === "long" ? 3 * HOUR : point === "off" ? 0 : undefined;

  it("deletes by the point's own retention, else the global one; 0 deletes everything", async () => {
    const s = openStore(dir.file(), { retentionMs: HOUR, now: () => now, pointRetention });
    store = s;
    const ages = [4 * HOUR, 2.5 * HOUR, 1.5 * HOUR, 0.5 * HOUR, 0];
    for (const point of ["std", "long", "off"])
      s.append(ages.map((age) => r("d", point, T0 - age, age / HOUR)));

    expect(await s.sweep()).toEqual({ byAge: 3 + 1 + 5, bySize: 0 });
    expect(values(s.query("d", "std"))).toEqual([0.5, 0]);
    expect(values(s.query("d", "long"))).toEqual([2.5, 1.5, 0.5, 0]);
    expect(values(s.query("d", "off"))).toEqual([]);
    expect(s.stats()).toMatchObject({ rows: 6, deletedByAge: 9, deletedBySize: 0 });

    now += HOUR; // cutoff for std is now exactly T0: a reading at the cutoff is kept
    expect(await s.sweep()).toEqual({ byAge: 1 + 1, bySize: 0 });
    expect(values(s.query("d", "std"))).toEqual([0]);
    expect(values(s.query("d", "long"))).toEqual([1.5, 0.5, 0]);
    expect(s.stats().rows).toBe(countRows(dir.file()));
  });

  it("deletes more rows than one chunk, and a sweep call during a sweep shares it", async () => {
    const s = openStore(dir.file(), { retentionMs: HOUR, now: () => now });
    store = s;
    s.append(Array.from({ length: 12_345 }, (_, i) => r("d", "p", T0 - 2 * HOUR + i, i)));
    s.append([r("d", "p", T0, "fresh")]);
    const first = s.sweep();
    expect(s.sweep()).toBe(first);
    expect(await first).toEqual({ byAge: 12_345, bySize: 0 });
    expect(values(s.query("d", "p"))).toEqual(["fresh"]);
    expect(s.stats()).toMatchObject({ rows: 1, oldest: new Date(T0).toISOString() });
  });

  it("runs on its own timer", async () => {
    const s = openStore(dir.file(), { retentionMs: HOUR, now: () => now, sweepIntervalMs: 20 });
    store = s;
    s.append([r("d", "p", T0 - 2 * HOUR, 1), r("d", "p", T0, 2)]);
    await vi.waitFor(() => expect(s.stats().deletedByAge).toBe(1), { timeout: 2_000 });
    expect(values(s.query("d", "p"))).toEqual([2]);
  });

  it("stops cleanly when closed mid-sweep", async () => {
    const s = openStore(dir.file(), { retentionMs: HOUR, now: () => now });
    s.append(Array.from({ length: 20_000 }, (_, i) => r("d", "p", T0 - 2 * HOUR + i, i)));
    const sweeping = s.sweep();
    s.close();
    const result = await sweeping;
    expect(result.byAge).toBeLessThan(20_000);
    expect(s.stats().errors).toBe(0);
  });
});

describe("retention by size", () => {
  it("deletes the oldest rows until the file is under the cap, newest kept", async () => {
    const s = openStore(dir.file(), { maxSizeMb: 1, now: () => now });
    store = s;
    const status = "SomeRatherLongStatusCodeName";
    for (let b = 0; b < 40; b++)
      s.append(
        Array.from({ length: 1_000 }, (_, i) =>
          r("d", `p${i % 50}`, T0 + b * 1_000 + i, b * 1_000 + i, { quality: "uncertain", status }),
        ),
      );
    const before = s.stats();
    expect(before.bytes).toBeGreaterThan(2 * 1024 * 1024);

    const { byAge, bySize } = await s.sweep();
    const after = s.stats();
    expect(byAge).toBe(0);
    expect(bySize).toBeGreaterThan(0);
    expect(after.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(after.bytes).toBeGreaterThan(0.5 * 1024 * 1024); // not emptied: only what the cap needs
    expect(after.rows).toBe(40_000 - bySize);
    expect(after.rows).toBe(countRows(dir.file()));
    expect(after.deletedBySize).toBe(bySize);
    expect(after.fileBytes).toBeLessThan(before.fileBytes);
    // Oldest (first inserted) gone, newest there.
    expect(values(s.query("d", "p0", { to: T0 }))).toEqual([]);
    // Exactly the oldest rows went (insertion order): what remains starts at value `bySize`.
    expect(values(s.query("d", "p0", { limit: 1 }))).toEqual([Math.ceil(bySize / 50) * 50]);
    expect(values(s.query("d", "p49", { from: T0 + 39_999 }))).toEqual([39_999]);
    expect(await s.sweep()).toEqual({ byAge: 0, bySize: 0 });
  });
});
