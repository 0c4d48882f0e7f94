import { describe, expect, it } from "vitest";
import { isReading, type PointType, type Reading, readingErrors } from "../schema/reading.js";
import { normalizeValue, type SampleValue } from "../schema/values.js";
import type { Sample } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";
import { ReadingBuilder, toIso } from "./builder.js";
import { Sequence } from "./sequence.js";

type P = PointConfig<Record<string, unknown>>;
const T0 = Date.parse("2026-03-01T10:00:00.000Z");

function setup(points: P[]) {
  const b = new ReadingBuilder("gw", "dev", "test", points, new Sequence(T0));
  const run = (samples: Sample[], now = T0) => {
    const out: Reading[] = [];
    const stats = b.build(samples, now, out);
    return { out, stats };
  };
  return { b, run };
}

describe("ReadingBuilder", () => {
  it("stamps gateway, device, protocol, seq, receivedAt, unit and address, and produces valid Readings", () => {
    const { run } = setup([
      { id: "t", type: "float64", unit: "°C", address: "sim:sine", publish: "always" } as P,
    ]);
    const { out } = run([
      { point: "t", value: 21.5 },
      { point: "t", value: 21.5, sourceTs: T0 - 5000 },
    ]);
    expect(out).toHaveLength(2);
    const [a, b] = out as [Reading, Reading];
    expect(readingErrors(a)).toEqual([]);
    expect(a).toMatchObject({
      gateway: "gw",
      device: "dev",
      point: "t",
      value: 21.5,
      type: "float64",
      quality: "good",
      unit: "°C",
      address: "sim:sine",
      protocol: "test",
      ts: "2026-03-01T10:00:00.000Z",
      receivedAt: "2026-03-01T10:00:00.000Z",
    });
    expect(b.ts).toBe("2026-03-01T09:59:55.000Z");
    expect(b.seq).toBe(a.seq + 1);
    expect(a.seq).toBeGreaterThan(T0 * 1000);
  });

  it("int64/uint64 beyond 2^53 become decimal strings; within, numbers", () => {
    const { run } = setup([
      { id: "a", type: "int64" } as P,
      { id: "b", type: "uint64" } as P,
      { id: "c", type: "int64" } as P,
    ]);
    const { out } = run([
      { point: "a", value: -(2n ** 60n) },
      { point: "b", value: 2n ** 64n - 1n },
      { point: "c", value: 42n },
    ]);
    expect(out.map((r) => r.value)).toEqual(["-1152921504606846976", "18446744073709551615", 42]);
    expect(out.every(isReading)).toBe(true);
  });

  it("a value that does not fit the point type becomes bad/TypeMismatch with a null value", () => {
    const { run } = setup([{ id: "x", type: "int16" } as P]);
    const { out, stats } = run([{ point: "x", value: 70000 }]);
    expect(out[0]).toMatchObject({ value: null, quality: "bad", status: "TypeMismatch" });
    expect(stats.bad).toBe(1);
  });

  it("applies scale and offset and publishes scaled points as float64", () => {
    const { run } = setup([{ id: "x", type: "int16", scale: 0.1, offset: -40 } as P]);
    const { out } = run([{ point: "x", value: 655 }]);
    expect(out[0]!.type).toBe("float64");
    expect(out[0]!.value).toBeCloseTo(25.5, 10);
  });

  it("reports by exception: unchanged values are suppressed, quality changes always published", () => {
    const { run } = setup([{ id: "x", type: "int32", publish: "onChange" } as P]);
    expect(run([{ point: "x", value: 1 }]).out).toHaveLength(1);
    expect(run([{ point: "x", value: 1 }]).out).toHaveLength(0);
    expect(run([{ point: "x", value: 2 }]).out).toHaveLength(1);
    expect(run([{ point: "x", value: 2, quality: "uncertain", status: "LastUsable" }]).out).toHaveLength(1);
    expect(run([{ point: "x", value: 2 }]).out).toHaveLength(1);
  });

  it("absolute deadband suppresses small changes, measured from the last published value", () => {
    const { run } = setup([{ id: "x", type: "float64", deadband: { mode: "absolute", value: 0.5 } } as P]);
    const values = [10, 10.3, 10.5, 10.6, 10.2, 9.9];
    const published = values.filter((v) => run([{ point: "x", value: v }]).out.length > 0);
    expect(published).toEqual([10, 10.6, 9.9]);
  });

  it("percent deadband is relative to the last published value", () => {
    const { run } = setup([{ id: "x", type: "float64", deadband: { mode: "percent", value: 10 } } as P]);
    const values = [100, 109, 111, 121, 125, 0, 0.001];
    const published = values.filter((v) => run([{ point: "x", value: v }]).out.length > 0);
    expect(published).toEqual([100, 111, 125, 0, 0.001]);
  });

  it("heartbeat re-publishes an unchanged value once it is due", () => {
    const { run } = setup([{ id: "x", type: "bool", heartbeatMs: 1000 } as P]);
    expect(run([{ point: "x", value: true }], T0).out).toHaveLength(1);
    expect(run([{ point: "x", value: true }], T0 + 500).out).toHaveLength(0);
    expect(run([{ point: "x", value: true }], T0 + 1000).out).toHaveLength(1);
    expect(run([{ point: "x", value: true }], T0 + 1500).out).toHaveLength(0);
  });

  it("heartbeats() re-sends pushed points' last readings with a new seq", () => {
    const { b, run } = setup([{ id: "x", type: "float64", heartbeatMs: 1000 } as P]);
    const first = run([{ point: "x", value: 1 }], T0).out[0]!;
    const out: Reading[] = [];
    b.heartbeats(new Set(["x"]), T0 + 999, out);
    expect(out).toHaveLength(0);
    b.heartbeats(new Set(["x"]), T0 + 1000, out);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ value: 1, ts: first.ts, receivedAt: first.receivedAt });
    expect(out[0]!.seq).toBeGreaterThan(first.seq);
  });

  it("markAll publishes each point once per distinct bad status", () => {
    const { b, run } = setup([{ id: "x", type: "float64" } as P, { id: "y", type: "string" } as P]);
    run([{ point: "x", value: 1 }]);
    const out: Reading[] = [];
    b.markAll("bad", "Disconnected", T0 + 10, out);
    b.markAll("bad", "Disconnected", T0 + 20, out);
    expect(out.map((r) => [r.point, r.quality, r.status, r.value])).toEqual([
      ["x", "bad", "Disconnected", null],
      ["y", "bad", "Disconnected", null],
    ]);
    expect(b.notGood()).toEqual({ count: 2, total: 2, statuses: ["Disconnected"] });
    expect(out.every(isReading)).toBe(true);
  });

  // Regression (issue 14): with a sample address other than the configured one (Modbus shorthand,
  // simulator generators, MQTT topics), the second outage published nothing and recovery waited
  // for the value to change.
  for (const configured of [undefined, "hr:40001:float32:ABCD", "hr:0"]) {
    it(`every outage marks the point bad and every recovery republishes it (configured address ${configured})`, () => {
      const { b, run } = setup([{ id: "x", type: "float32", address: configured } as P]);
      const timeline: string[] = [];
      const note = (out: Reading[]) => {
        for (const r of out) timeline.push(`${r.quality}/${r.status ?? ""}/${r.value}/${r.address}`);
      };
      for (let outage = 0; outage < 5; outage++) {
        note(run([{ point: "x", value: 7, address: "hr:0" }], T0 + outage * 100).out);
        note(run([{ point: "x", value: 7, address: "hr:0" }], T0 + outage * 100 + 10).out); // suppressed
        const out: Reading[] = [];
        b.markAll("bad", "Disconnected", T0 + outage * 100 + 50, out);
        note(out);
        expect(b.notGood().count).toBe(1);
      }
      note(run([{ point: "x", value: 7, address: "hr:0" }], T0 + 1000).out);
      expect(b.notGood().count).toBe(0);
      const cycle = ["good//7/hr:0", "bad/Disconnected/null/hr:0"];
      expect(timeline).toEqual([...cycle, ...cycle, ...cycle, ...cycle, ...cycle, "good//7/hr:0"]);
    });
  }

  it("markStale republishes good points as uncertain/Stale with their value, once, until a sample arrives", () => {
    const { b, run } = setup([{ id: "x", type: "float64" } as P, { id: "y", type: "float64" } as P]);
    const first = run([{ point: "x", value: 3 }], T0).out[0]!;
    run([{ point: "y", value: null, quality: "bad", status: "Timeout" }], T0);
    const stale = (now: number) => {
      const out: Reading[] = [];
      b.markStale(["x", "y"], now, out, (_, lastSampleMs) => now - lastSampleMs >= 1000);
      return out;
    };
    expect(stale(T0 + 999)).toEqual([]);
    const [s] = stale(T0 + 1000);
    expect(s).toMatchObject({ point: "x", value: 3, quality: "uncertain", status: "Stale", ts: first.ts });
    expect(s!.seq).toBeGreaterThan(first.seq);
    expect(isReading(s)).toBe(true);
    expect(stale(T0 + 2000)).toEqual([]); // already stale; y is bad, not good: left alone
    expect(run([{ point: "x", value: 3 }], T0 + 2100).out.map((r) => r.quality)).toEqual(["good"]);
  });

  it("a wildcard point republishes each topic after an outage", () => {
    const { b, run } = setup([{ id: "state", type: "string" } as P]);
    const at = (topic: string, now: number) =>
      run([{ point: "state", value: "on", address: topic }], now).out.length;
    expect([at("a", T0), at("b", T0), at("a", T0 + 1), at("b", T0 + 1)]).toEqual([1, 1, 0, 0]);
    const out: Reading[] = [];
    b.markAll("bad", "Disconnected", T0 + 2, out);
    expect(out).toHaveLength(1);
    expect([at("a", T0 + 3), at("b", T0 + 3), at("a", T0 + 4)]).toEqual([1, 1, 0]);
  });

  it("reports by exception per source address, so a wildcard point's topics do not suppress each other", () => {
    const { run } = setup([{ id: "state", type: "string", publish: "onChange" } as P]);
    const at = (topic: string, value: string) => run([{ point: "state", value, address: topic }]).out.length;
    expect(at("line1/press-1", "running")).toBe(1);
    expect(at("line1/press-2", "running")).toBe(1); // same value, other topic: published
    expect(at("line1/press-1", "running")).toBe(0); // unchanged on its own topic: suppressed
    expect(at("line1/press-2", "stopped")).toBe(1);
  });

  it("null values and unknown points are bad", () => {
    const { run } = setup([{ id: "x", type: "float64" } as P]);
    const { out, stats } = run([
      { point: "x", value: null, quality: "bad", status: "Timeout" },
      { point: "nope", value: 1 },
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ quality: "bad", status: "Timeout", value: null });
    expect(stats.bad).toBe(2);
  });
  it("numbers on its fast path (floats, 16/32-bit integers) get exactly normalizeValue's value or status", () => {
    const types: PointType[] = ["float32", "float64", "int16", "uint16", "int32", "uint32"];
    const raws: SampleValue[] = [
      0,
      -0,
      1.5,
      -1.5,
      1234.00390625,
      32767,
      32768,
      -32768,
      -32769,
      65535,
      65536,
      -1,
      2147483647,
      2147483648,
      -2147483648,
      -2147483649,
      4294967295,
      4294967296,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      7n,
      "7",
      true,
    ];
    for (const type of types) {
      const { run } = setup(raws.map((_, i) => ({ id: `p${i}`, type, publish: "always" }) as P));
      const { out } = run(raws.map((value, i) => ({ point: `p${i}`, value })));
      raws.forEach((raw, i) => {
        const n = normalizeValue(type, raw);
        const r = out[i]!;
        const what = `${type} ${String(raw)}`;
        if (n.ok) {
          expect(Object.is(r.value, n.value), what).toBe(true);
          expect(r.quality, what).toBe("good");
        } else {
          expect(r.value, what).toBeNull();
          expect([r.quality, r.status], what).toEqual(["bad", n.status]);
        }
      });
    }
  });

  it("builds every reading with the same keys in the same order, with or without status, unit and address", () => {
    const { run } = setup([
      { id: "a", type: "float32", address: "hr:0", publish: "always" } as P,
      { id: "b", type: "float32", publish: "always" } as P,
      { id: "c", type: "float32", address: "hr:2", unit: "bar", publish: "always" } as P,
      { id: "d", type: "float32", address: "hr:4", publish: "always" } as P,
    ]);
    const { out } = run([
      { point: "a", value: 1.5 },
      { point: "b", value: 1.5 },
      { point: "c", value: 1.5 },
      { point: "d", value: null, quality: "bad", status: "Timeout" },
      { point: "a", value: 2.5, address: "3/hr:0" },
    ]);
    const base = [
      "gateway",
      "device",
      "point",
      "value",
      "type",
      "quality",
      "ts",
      "receivedAt",
      "protocol",
      "seq",
    ];
    expect(out.map((r) => Object.keys(r))).toEqual([
      [...base, "address"],
      base,
      [...base, "unit", "address"],
      [...base, "status", "address"],
      [...base, "address"],
    ]);
    expect(out.map((r) => r.address)).toEqual(["hr:0", undefined, "hr:2", "hr:4", "3/hr:0"]);
    expect(out.every(isReading)).toBe(true);
  });
});

describe("toIso", () => {
  it("formats every kind of source time, repeated or not, and refuses invalid ones", () => {
    const t = Date.UTC(2026, 11, 5, 10, 0, 0, 250);
    const seq = [t, t, t + 1, t, t + 0.7, new Date(t + 2), "2026-12-05T10:00:00.253Z", t + 3];
    for (const ts of seq) expect(toIso(ts)).toBe(new Date(ts).toISOString());
    expect(toIso(t)).toBe("2026-12-05T10:00:00.250Z");
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 9e15, "not a time", new Date(Number.NaN)])
      expect(toIso(bad)).toBeUndefined();
    expect(toIso(t + 3), "a refused time leaves the last one intact").toBe("2026-12-05T10:00:00.253Z");
  });
});
