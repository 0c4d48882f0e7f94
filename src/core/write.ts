/**
 * Checks a value a client wants to write and turns it into the raw value the adapter writes:
 * type and `min`/`max` are checked in engineering units, then scale and offset are undone.
 */
import { isNumericType, normalizeValue } from "../schema/values.js";
import type { PointConfig } from "../sdk/point.js";

/** The raw value to hand to the adapter, or why the value is refused. */
export type WriteCheck = { ok: true; raw: unknown } | { ok: false; message: string };

const INTEGER = /^u?int(16|32|64)$/;

/** Validates `value` for `point` and converts it to the device's raw representation. */
export function checkWrite(point: PointConfig<Record<string, unknown>>, value: unknown): WriteCheck {
  const scaled = isNumericType(point.type) && (point.scale !== undefined || point.offset !== undefined);
  if (isNumericType(point.type) && typeof value === "number") {
    if (!Number.isFinite(value)) return { ok: false, message: "value must be a finite number" };
    if (point.min !== undefined && value < point.min)
      return { ok: false, message: `value ${value} is below min ${point.min}` };
    if (point.max !== undefined && value > point.max)
      return { ok: false, message: `value ${value} is above max ${point.max}` };
  }
  let raw: unknown = value;
  if (scaled && typeof value === "number") {
    const unscaled = (value - (point.offset ?? 0)) / (point.scale ?? 1);
    raw = INTEGER.test(point.type) ? Math.round(unscaled) : unscaled;
  }
  const normalized = normalizeValue(point.type, raw as never);
  if (!normalized.ok)
    return { ok: false, message: `value does not fit type ${point.type}${scaled ? " after scaling" : ""}` };
  return {
    ok: true,
    raw:
      point.type === "int64" || point.type === "uint64" ? BigInt(normalized.value as number | string) : raw,
  };
}
