import { describe, expect, it } from "vitest";
import type { PointType } from "../../src/sdk/index.js";
import { type SimPoint, type SimResult, SimulatedDevice } from "./client.js";
import type { Generator } from "./config.js";

/** Reads one point of a fresh device at each time in `times`. */
function series(generator: Generator, times: number[], type: PointType = "float64", seed = 1): SimResult[] {
  const device = new SimulatedDevice({ seed });
  const point: SimPoint = { id: "p", type, generator };
  return times.map((t) => device.read([point], t)[0]!);
}
const values = (results: SimResult[]) => results.map((r) => (r.ok ? r.value : `!${r.status}`));

describe("generators", () => {
  it("sine follows offset + amplitude * sin(2πt/period)", () => {
    const v = values(
      series({ kind: "sine", periodMs: 1000, amplitude: 5, offset: 20 }, [0, 250, 500, 750, 1000]),
    );
    expect(v.map((x) => Number((x as number).toFixed(9)))).toEqual([20, 25, 20, 15, 20]);
  });

  it("sine noise stays within ±noise", () => {
    const times = Array.from({ length: 200 }, (_, i) => i * 1000);
    const v = values(
      series({ kind: "sine", periodMs: 1000, amplitude: 1, offset: 0, noise: 0.5 }, times),
    ) as number[];
    expect(v.every((x) => Math.abs(x) <= 0.5)).toBe(true);
    expect(new Set(v).size).toBeGreaterThan(100);
  });

  it("ramp rises from min to max each period, then starts over", () => {
    const v = values(
      series({ kind: "ramp", periodMs: 1000, min: 10, max: 110 }, [0, 250, 500, 999, 1000, 1500]),
    );
    expect(v).toEqual([10, 35, 60, 109.9, 10, 60]);
  });

  it("counter counts one step per read and wraps to start after passing wrap", () => {
    expect(values(series({ kind: "counter", start: 0, step: 1, wrap: 3 }, [0, 0, 0, 0, 0, 0]))).toEqual([
      0, 1, 2, 3, 0, 1,
    ]);
    expect(values(series({ kind: "counter", start: 10, step: -5, wrap: 0 }, [0, 0, 0, 0]))).toEqual([
      10, 5, 0, 10,
    ]);
    expect(values(series({ kind: "counter" }, [0, 0, 0]))).toEqual([0, 1, 2]);
  });

  it("square toggles each half period: false/low, then true/high", () => {
    const times = [0, 499, 500, 999, 1000];
    expect(values(series({ kind: "square", periodMs: 1000 }, times, "bool"))).toEqual([
      false,
      false,
      true,
      true,
      false,
    ]);
    const numeric = series({ kind: "square", periodMs: 1000, low: 10, high: 20 }, times, "int16");
    expect(values(numeric)).toEqual([10, 10, 20, 20, 10]);
  });

  it("random walk starts at its start, stays within bounds and moves at most one step per read", () => {
    const v = values(
      series({ kind: "randomWalk", step: 3, min: 0, max: 10, start: 2 }, Array(500).fill(0)),
    ) as number[];
    expect(v[0]).toBe(2);
    expect(v.every((x) => x >= 0 && x <= 10)).toBe(true);
    for (let i = 1; i < v.length; i++) expect(Math.abs(v[i]! - v[i - 1]!)).toBeLessThanOrEqual(3);
    expect(new Set(v).size).toBeGreaterThan(100);
    expect(values(series({ kind: "randomWalk", min: 0, max: 50 }, [0]))).toEqual([25]);
  });

  it("is repeatable for one seed, differs across seeds, and a point's stream ignores other points", () => {
    const gen: Generator = { kind: "randomWalk", step: 1 };
    const times = Array(50).fill(0);
    expect(values(series(gen, times, "float64", 7))).toEqual(values(series(gen, times, "float64", 7)));
    expect(values(series(gen, times, "float64", 7))).not.toEqual(values(series(gen, times, "float64", 8)));
    const device = new SimulatedDevice({ seed: 7 });
    const other: SimPoint = { id: "other", type: "float64", generator: gen };
    const mine: SimPoint = { id: "p", type: "float64", generator: gen };
    const mixed = times.map((t) => device.read([other, mine], t)[1]!);
    expect(values(mixed)).toEqual(values(series(gen, times, "float64", 7)));
  });

  it("fault always reads bad with its status", () => {
    expect(series({ kind: "fault" }, [0, 1])).toEqual([
      { ok: false, status: "SensorFault" },
      { ok: false, status: "SensorFault" },
    ]);
    expect(series({ kind: "fault", status: "Overrange" }, [0], "bool")).toEqual([
      { ok: false, status: "Overrange" },
    ]);
  });
});

describe("types", () => {
  const at = (generator: Generator, type: PointType, t = 250) =>
    series({ periodMs: 1000, ...generator } as Generator, [t], type)[0];

  it.each<[string, Generator, PointType, SimResult]>([
    ["int16 rounds and clamps", { kind: "sine", amplitude: 1e6 }, "int16", { ok: true, value: 32767 }],
    ["uint16 clamps at 0", { kind: "constant", value: -5 }, "uint16", { ok: true, value: 0 }],
    ["int32 rounds", { kind: "constant", value: 2.6 }, "int32", { ok: true, value: 3 }],
    [
      "float32 rounds to single precision",
      { kind: "constant", value: 0.1 },
      "float32",
      { ok: true, value: Math.fround(0.1) },
    ],
    ["float64 keeps the value", { kind: "constant", value: 0.1 }, "float64", { ok: true, value: 0.1 }],
    ["bool takes a boolean constant", { kind: "constant", value: true }, "bool", { ok: true, value: true }],
    ["string takes a string constant", { kind: "constant", value: "x" }, "string", { ok: true, value: "x" }],
    [
      "datetime takes an ISO string",
      { kind: "constant", value: "2025-01-01T00:00:00Z" },
      "datetime",
      {
        ok: true,
        value: "2025-01-01T00:00:00Z",
      },
    ],
    ["json takes a number", { kind: "counter", start: 4 }, "json", { ok: true, value: 4 }],
    ["sine on string is a mismatch", { kind: "sine" }, "string", { ok: false, status: "TypeMismatch" }],
    ["sine on bool is a mismatch", { kind: "sine" }, "bool", { ok: false, status: "TypeMismatch" }],
    [
      "string constant on int16 is a mismatch",
      { kind: "constant", value: "7" },
      "int16",
      { ok: false, status: "TypeMismatch" },
    ],
    [
      "number constant on bool is a mismatch",
      { kind: "constant", value: 1 },
      "bool",
      { ok: false, status: "TypeMismatch" },
    ],
    ["square on string is a mismatch", { kind: "square" }, "string", { ok: false, status: "TypeMismatch" }],
    [
      "unparseable datetime is a mismatch",
      { kind: "constant", value: "soon" },
      "datetime",
      { ok: false, status: "TypeMismatch" },
    ],
    ["arrays are a mismatch", { kind: "counter" }, "int16[]", { ok: false, status: "TypeMismatch" }],
    [
      "bytes are a mismatch",
      { kind: "constant", value: "AA==" },
      "bytes",
      { ok: false, status: "TypeMismatch" },
    ],
  ])("%s", (_name, generator, type, expected) => {
    expect(at(generator, type)).toEqual(expected);
  });

  it("integer points always read integers", () => {
    const v = values(
      series({ kind: "sine", periodMs: 977, amplitude: 100 }, [1, 50, 123, 400, 700], "int16"),
    );
    expect(v.every((x) => Number.isInteger(x))).toBe(true);
  });
});
