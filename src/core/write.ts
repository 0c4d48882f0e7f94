/**
 * Checks a value a client wants to write and turns it into the raw value the adapter writes:
 * type and `min`/`max` are checked in engineering units, then scale and offset are undone. What
 * the adapter cannot encode beyond that (a protocol's own limits) it refuses with `WriteRefused`.
 */
import type { ReadingValue } from "../schema/reading.js";
import { isNumericType, normalizeValue } from "../schema/values.js";
import type { WriteResult } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";

/**
 * The raw value to hand to the adapter and the value that writes, in engineering units (after the
 * rounding of an integer register or a float32), or why the value is refused.
 */
export type WriteCheck = { ok: true; raw: unknown; written: ReadingValue } | { ok: false; message: string };

/** A confirmed write: the adapter's result and the value written, in engineering units. */
export interface WriteOutcome extends WriteResult {
  /** What the device now holds, as a read would show it: a scaled integer point's rounding applied. */
  value: ReadingValue;
}

const INTEGER = /^u?int(16|32|64)$/;
const DECIMAL = /^-?\d+$/;

/** Validates `value` for `point` and converts it to the device's raw representation. */
export function checkWrite(point: PointConfig<Record<string, unknown>>, value: unknown): WriteCheck {
  if (value === null || value === undefined) return { ok: false, message: "value must not be null" };
  const numeric = isNumericType(point.type);
  const scaled = numeric && (point.scale !== undefined || point.offset !== undefined);
  if (scaled && typeof value !== "number")
    return { ok: false, message: `a scaled point takes a number, not ${describe(value)}` };
  // 64-bit integers may come as decimal strings: min/max apply to them too.
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && DECIMAL.test(value)
        ? Number(value)
        : undefined;
  if (numeric && n !== undefined) {
    if (!Number.isFinite(n)) return { ok: false, message: "value must be a finite number" };
    if (point.min !== undefined && n < point.min)
      return { ok: false, message: `value ${value} is below min ${point.min}` };
    if (point.max !== undefined && n > point.max)
      return { ok: false, message: `value ${value} is above max ${point.max}` };
  }
  let raw: unknown = value;
  if (scaled) {
    const unscaled = ((value as number) - (point.offset ?? 0)) / (point.scale ?? 1);
    raw = INTEGER.test(point.type) ? Math.round(unscaled) : unscaled;
  }
  // A float32 holds the nearest single: that is what the device keeps and what a read returns.
  if (point.type === "float32" && typeof raw === "number") raw = Math.fround(raw);
  const normalized = normalizeValue(point.type, raw as never);
  if (!normalized.ok)
    return { ok: false, message: `value does not fit type ${point.type}${scaled ? " after scaling" : ""}` };
  const wide = point.type === "int64" || point.type === "uint64";
  return {
    ok: true,
    raw: wide ? BigInt(normalized.value as number | string) : raw,
    // Scaled the way the reading builder scales, so the answer equals what the next read shows.
    written: scaled ? Number(normalized.value) * (point.scale ?? 1) + (point.offset ?? 0) : normalized.value,
  };
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : typeof value;
}
