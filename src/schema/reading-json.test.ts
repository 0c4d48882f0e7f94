import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reading } from "../../test/helpers/gateway-view.js";
import { type Reading, ReadingSchema } from "./reading.js";
import { ByteBuffer, type ReadingWriter, readingJsonWriter } from "./reading-json.js";

/** A Reading with its keys in the order the core's builder makes them. */
const ordered = (r: Reading): Reading => {
  const { gateway, device, point, value, type, quality, ts, receivedAt, protocol, seq } = r;
  const out: Reading = { gateway, device, point, value, type, quality, ts, receivedAt, protocol, seq };
  if (r.status !== undefined) out.status = r.status;
  if (r.unit !== undefined) out.unit = r.unit;
  if (r.address !== undefined) out.address = r.address;
  return out;
};

const text = (w: ReadingWriter, r: Reading) => w.toBuffer(r).toString("utf8");

// A Reading in the builder's key order, with a receivedAt other than its ts and an address.
const base: Reading = {
  ...reading("press-1", "temp"),
  receivedAt: "2025-01-01T00:00:00.001Z",
  address: "hr:0",
};

describe("readingJsonWriter", () => {
  it("writes what JSON.stringify writes, for arbitrary Readings through one writer (property)", () => {
    const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((t) => new Date(t).toISOString());
    const opt = fc.option(fc.string({ unit: "binary" }), { nil: undefined });
    const reading = fc
      .record({
        gateway: fc.constantFrom("gw1", "gw\u00e9"),
        device: fc.constantFrom("d1", "d2", 'd"3', "d\u20ac"),
        point: fc.constantFrom("p1", "p2", "p\\3", "p\n4"),
        value: fc.oneof(
          fc.double(),
          fc.integer(),
          fc.boolean(),
          fc.string({ unit: "binary" }),
          fc.constant(null),
          fc.array(fc.integer()),
          fc.dictionary(fc.string(), fc.string()),
        ),
        type: fc.constantFrom("float64" as const, "string" as const, "int32[]" as const),
        quality: fc.constantFrom("good" as const, "bad" as const, "uncertain" as const),
        ts: iso,
        receivedAt: iso,
        protocol: fc.constantFrom("modbus", "opcua", "x\u00ff"),
        seq: fc.oneof(fc.nat(), fc.constant(1_764_459_000_000_001)),
        status: opt,
        unit: opt,
        address: opt,
      })
      .map((r) => ordered(r as Reading));
    const w = readingJsonWriter(3); // a tiny cache, so that it is emptied and refilled too
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 30 }), (rs) => {
        const out = new ByteBuffer(16);
        for (const r of rs) {
          expect(text(w, r)).toBe(JSON.stringify(r));
          if (out.length > 0) out.byte(0x2c);
          w.write(r, out);
        }
        expect(out.copy().toString("utf8")).toBe(JSON.stringify(rs).slice(1, -1));
      }),
      { numRuns: 300 },
    );
  });

  it("follows a point's fields as they change: quality and status, unit, address, gateway", () => {
    const w = readingJsonWriter();
    const steps: Reading[] = [
      base,
      { ...base, value: Number.NaN, quality: "bad", seq: 2, status: "Timeout" },
      { ...base, value: -0, seq: 3 },
      { ...base, seq: 4, unit: "°C" },
      ordered({ ...base, seq: 5, address: "hr:2" }),
      { ...base, gateway: "gw2", seq: 6 },
      { ...base, value: Number.POSITIVE_INFINITY, seq: 7 },
    ];
    for (const r of steps) expect(text(w, r)).toBe(JSON.stringify(ordered(r)));
  });

  it("writes the same fields in its own order for a Reading built in another key order", () => {
    const w = readingJsonWriter();
    const { address: _, ...rest } = base;
    const shuffled = { unit: "bar", status: "x", ...rest } as Reading;
    const written = text(w, shuffled);
    expect(JSON.parse(written)).toEqual(JSON.parse(JSON.stringify(shuffled)));
  });

  it("writes every field of the Reading schema (a field added to the schema fails here)", () => {
    const full = ordered({ ...base, status: "s", unit: "u", address: "a" });
    const written = JSON.parse(text(readingJsonWriter(), full)) as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual(Object.keys(ReadingSchema.properties).sort());
  });

  it("grows its buffer as needed", () => {
    const out = new ByteBuffer(1);
    const big = { ...base, value: "é".repeat(10_000) };
    readingJsonWriter().write(big, out);
    expect(out.copy().toString("utf8")).toBe(JSON.stringify(big));
  });
});
