import { describe, expect, it } from "vitest";
import type { PointConfig } from "../sdk/point.js";
import { checkWrite } from "./write.js";

type P = PointConfig<Record<string, unknown>>;
const point = (p: Partial<P>): P => ({ id: "x", type: "float64", ...p }) as P;

describe("checkWrite", () => {
  it("accepts a value of the point's type and passes it through", () => {
    expect(checkWrite(point({ type: "bool" }), true)).toEqual({ ok: true, raw: true });
    expect(checkWrite(point({ type: "string" }), "A4")).toEqual({ ok: true, raw: "A4" });
    expect(checkWrite(point({ type: "int16" }), -5)).toEqual({ ok: true, raw: -5 });
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
    expect(checkWrite(point({ type: "int16", scale: 0.1 }), 150.04)).toEqual({ ok: true, raw: 1500 });
    expect(checkWrite(point({ type: "uint16", scale: 0.5, offset: -40 }), 10)).toEqual({
      ok: true,
      raw: 100,
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
    });
    expect(checkWrite(point({ type: "int64" }), -3)).toEqual({ ok: true, raw: -3n });
    expect(checkWrite(point({ type: "uint64" }), "-1")).toMatchObject({ ok: false });
  });
});
