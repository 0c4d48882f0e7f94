import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isReading, type Reading } from "./reading.js";
import {
  COMPACT_BATCH_TAIL,
  COMPACT_COLUMNS,
  compactBase,
  compactBatchHead,
  compactRowWriter,
  decodeCompactBatch,
  isCompactBatch,
} from "./reading-batch.js";
import type { ReadingWriter } from "./reading-json.js";

const base: Reading = {
  gateway: "gw1",
  device: "press-1",
  point: "temp",
  value: 21.5,
  type: "float64",
  quality: "good",
  ts: "2025-01-01T00:00:00.000Z",
  receivedAt: "2025-01-01T00:00:00.001Z",
  protocol: "modbus",
  seq: 1,
};

/** One row's JSON text. */
const rowOf = (w: ReadingWriter, r: Reading, t0: number) => w.toBuffer(r, t0).toString("utf8");

/** Encodes readings as one compact batch, the way the MQTT sink's batcher does. */
function encode(readings: readonly Reading[], row = compactRowWriter()): string {
  const first = readings[0]!;
  const t0 = compactBase(first.ts);
  const rows = readings.map((r) => rowOf(row, r, t0)).join(",");
  return `${compactBatchHead(first.gateway, first.ts)}${rows}${COMPACT_BATCH_TAIL}`;
}

const samples: Reading[] = [
  base,
  { ...base, seq: 2, value: null, quality: "bad", status: "Timeout" },
  { ...base, seq: 3, value: true, type: "bool", unit: "°C" },
  { ...base, seq: 4, value: 'a "quoted" \\ line\nbreak ✓ \u2028', type: "string", address: "40001" },
  {
    ...base,
    seq: 5,
    value: [1, 2.5, -3],
    type: "float64[]",
    status: "Good",
    unit: "bar",
    address: "ns=2;s=x",
  },
  { ...base, seq: 6, value: { a: [1, { b: null }], 'c"': "d" }, type: "json" },
  { ...base, seq: 7, value: "18446744073709551615", type: "uint64" },
  { ...base, seq: 8, value: -0, device: 'dev "ö"/#+', point: "p\u0000\t" },
  { ...base, seq: 9, value: 1e21, type: "float64", ts: "2025-01-01T00:00:00.002Z" },
  { ...base, seq: 10, value: 5e-324, quality: "uncertain", unit: "" },
];

describe("compact Reading batch v1", () => {
  it("round-trips Readings of every shape: JSON.parse → decodeCompactBatch equals the input, valid Readings", () => {
    const json = encode(samples);
    const parsed: unknown = JSON.parse(json);
    expect(isCompactBatch(parsed)).toBe(true);
    const back = decodeCompactBatch(parsed);
    expect(back.every((r) => isReading(r))).toBe(true);
    // JSON itself turns -0 into 0, as it does for a Reading.
    expect(back).toEqual(samples.map((r) => JSON.parse(JSON.stringify(r)) as Reading));
  });

  it("each row is exactly JSON.stringify of its values: times in ms after t0, trailing absent optional fields left out", () => {
    const row = compactRowWriter();
    const t0 = Date.parse(base.ts) - 5;
    for (const r of samples) {
      const values = COMPACT_COLUMNS.map((c) => (r as Record<string, unknown>)[c] ?? null);
      values[5] = Date.parse(r.ts) - t0;
      values[6] = Date.parse(r.receivedAt) - t0;
      while (values.length > 9 && values.at(-1) === null) values.pop();
      expect(rowOf(row, r, t0)).toBe(JSON.stringify(values));
    }
    expect(rowOf(row, base, t0)).toBe('["press-1","temp",21.5,"float64","good",5,6,1,"modbus"]');
    expect(rowOf(row, base, Number.NaN)).toBe(
      '["press-1","temp",21.5,"float64","good","2025-01-01T00:00:00.000Z","2025-01-01T00:00:00.001Z",1,"modbus"]',
    );
  });

  it("keeps a timestamp that does not round-trip through Date as its ISO string", () => {
    const odd = { ...base, ts: "2025-02-30T00:00:00.000Z" }; // matches the pattern, not a real day
    const row = compactRowWriter();
    expect(rowOf(row, odd, Date.parse(base.ts))).toContain(',"2025-02-30T00:00:00.000Z",1,');
    expect(compactBase(odd.ts)).toBeNaN();
    // A batch whose first Reading has such a ts has no base time: every row keeps ISO strings.
    const json = encode([odd, base]);
    expect(json).toContain(`"${base.ts}","${base.receivedAt}"`);
  });

  it("round-trips arbitrary Readings (property)", () => {
    const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((t) => new Date(t).toISOString());
    const opt = fc.option(fc.string(), { nil: undefined });
    const reading = fc.record({
      gateway: fc.constant("gw1"),
      device: fc.string({ minLength: 1, unit: "binary" }),
      point: fc.string({ minLength: 1 }),
      value: fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.string(),
        fc.constant(null),
        fc.array(fc.integer()),
      ),
      type: fc.constantFrom("float64" as const, "string" as const, "int32[]" as const),
      quality: fc.constantFrom("good" as const, "bad" as const, "uncertain" as const),
      ts: iso,
      receivedAt: iso,
      protocol: fc.string({ minLength: 1 }),
      seq: fc.nat(),
      status: opt,
      unit: opt,
      address: opt,
    });
    const row = compactRowWriter(); // one encoder across runs: its caches must not leak between rows
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 20 }), (rs) => {
        const clean = rs.map((r) => {
          const out = { ...r } as Record<string, unknown>;
          for (const k of ["status", "unit", "address"]) if (out[k] === undefined) delete out[k];
          return JSON.parse(JSON.stringify(out)) as Reading;
        });
        const back = decodeCompactBatch(JSON.parse(encode(clean, row)));
        expect(back).toEqual(clean);
        expect(back.every((r) => isReading(r))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses what is not a compact batch v1, or a row that is not a Reading", () => {
    const ok = JSON.parse(encode([base])) as Record<string, unknown>;
    expect(() => decodeCompactBatch({ ...ok, v: 2 })).toThrow(/not a compact Reading batch v1/);
    expect(() => decodeCompactBatch({ ...ok, columns: ["device"] })).toThrow(/not a compact/);
    expect(() => decodeCompactBatch({ ...ok, rows: [["d", "p", 1]] })).toThrow(/not a compact/);
    const badRow = ["d", "p", 1, "float64", "great", 0, 0, 1, "modbus"];
    expect(() => decodeCompactBatch({ ...ok, rows: [badRow] })).toThrow(/row 0: \/quality/);
    expect(() =>
      decodeCompactBatch({ ...ok, rows: [[...badRow.slice(0, 4), "good", 0.5, 0, 1, "m"]] }),
    ).toThrow(/row 0: \/ts/);
    expect(decodeCompactBatch({ ...ok, rows: [] })).toEqual([]);
  });
});
