import { describe, expect, it } from "vitest";
import type { PointConfig } from "../sdk/point.js";
import { checkWrite } from "./write.js";

type P = PointConfig<Record<string, unknown>>;
const point = (p: Partial<P>): P => ({ id: "x", type: "float64", ...p }) as P;

describe("checkWrite", () => {
  it("accepts a value of the point's type and passes it through", () => {
    expect(checkWrite(point({ type: "bool" }), true)).toEqual({ ok: true, raw: true, written: true });
    expect(checkWrite(point({ type: "string" }), "A4")).toEqual({ ok: true, raw: "A4", written: "A4" });
    expect(checkWrite(point({ type: "int16" }), -5)).toEqual({ ok: true, raw: -5, written: -5 });
  });

  it("refuses wrong types and out-of-range integers", () => {
    expect(checkWrite(point({ type: "bool" }), 1)).toMatchObject({ ok: false });
    expect(checkWrite(point({ type: "int16" }), 40000)).toMatchObject({ ok: false, message: /int16/ });
    expect(checkWrite(point({ type: "uint16" }), 1.5)).toMatchObject({ ok: false });
    expect(checkWrite(point({ type: "float64" }), Number.NaN)).toMatchObject({ ok: false });
  });

  it("checks min and max in engineering units", () => {
    const p = point({ min: 0, max: 100 });
    expect(checkWrite(p, 100)).toMatchObject({ ok: true });
    expect(checkWrite(p, 100.5)).toEqual({ ok: false, message: "value 100.5 is above max 100" });
    expect(checkWrite(p, -1)).toEqual({ ok: false, message: "value -1 is below min 0" });
  });

  it("undoes scale and offset, rounding for integer registers", () => {
    expect(checkWrite(point({ type: "int16", scale: 0.1 }), 150.04)).toEqual({
      ok: true,
      raw: 1500,
      written: 150,
    });
    expect(checkWrite(point({ type: "uint16", scale: 0.5, offset: -40 }), 10)).toEqual({
      ok: true,
      raw: 100,
      written: 10,
    });
    expect(checkWrite(point({ type: "int16", scale: 0.1 }), 5000)).toMatchObject({
      ok: false,
      message: /after scaling/,
    });
  });

  it("takes 64-bit integers as numbers or decimal strings and hands them over as bigint", () => {
    expect(checkWrite(point({ type: "uint64" }), "18446744073709551615")).toEqual({
      ok: true,
      raw: 18446744073709551615n,
      written: "18446744073709551615",
    });
    expect(checkWrite(point({ type: "int64" }), -3)).toEqual({ ok: true, raw: -3n, written: -3 });
    expect(checkWrite(point({ type: "uint64" }), "-1")).toMatchObject({ ok: false });
  });

  it("refuses null (and a missing value) for every type", () => {
    for (const type of ["bool", "int16", "int64", "float32", "string", "json"] as const) {
      expect(checkWrite(point({ type }), null)).toEqual({ ok: false, message: "value must not be null" });
      expect(checkWrite(point({ type }), undefined)).toMatchObject({ ok: false });
    }
  });

  it("answers with the value a scaled integer point actually holds after rounding", () => {
    // scale 0.1 on int16: 12.34 writes raw 123, which reads as 12.3
    expect(checkWrite(point({ type: "int16", scale: 0.1 }), 12.34)).toEqual({
      ok: true,
      raw: 123,
      written: 12.3,
    });
    expect(checkWrite(point({ type: "int32", scale: 2, offset: 1 }), 4)).toEqual({
      ok: true,
      raw: 2, // (4 - 1) / 2 = 1.5, rounded half up
      written: 5,
    });
    expect(checkWrite(point({ type: "int64", scale: 0.01 }), 1.234)).toEqual({
      ok: true,
      raw: 123n,
      written: 1.23,
    });
  });

  it("a float32 holds the nearest single; beyond its range it is refused, before the adapter", () => {
    expect(checkWrite(point({ type: "float32" }), 0.1)).toEqual({
      ok: true,
      raw: Math.fround(0.1),
      written: Math.fround(0.1),
    });
    expect(checkWrite(point({ type: "float32" }), 1e39)).toMatchObject({ ok: false, message: /float32/ });
    expect(checkWrite(point({ type: "float64" }), 1e39)).toMatchObject({ ok: true, raw: 1e39 });
  });

  it("a scaled point takes a number only; min/max apply to 64-bit decimal strings too", () => {
    expect(checkWrite(point({ type: "int64", scale: 0.1 }), "123")).toMatchObject({
      ok: false,
      message: /scaled point takes a number/,
    });
    const p = point({ type: "int64", min: 0, max: 1000 });
    expect(checkWrite(p, "1001")).toEqual({ ok: false, message: "value 1001 is above max 1000" });
    expect(checkWrite(p, "-1")).toEqual({ ok: false, message: "value -1 is below min 0" });
    expect(checkWrite(p, "999")).toEqual({ ok: true, raw: 999n, written: 999 });
  });
});
