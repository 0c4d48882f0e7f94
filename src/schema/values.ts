/**
 * Turns an adapter's raw sample value into the JSON value a Reading carries for a point type.
 * Pure and allocation-light: it runs once per sample on the hot path.
 */
import type { PointType, ReadingValue, ScalarType } from "./reading.js";

/** A value as an adapter may hand it over, before normalization. */
export type SampleValue =
  | number
  | bigint
  | boolean
  | string
  | Date
  | Uint8Array
  | null
  | readonly SampleValue[]
  | { readonly [key: string]: unknown };

/** The outcome of normalizing: a Reading value, or the status explaining why there is none. */
export type Normalized = { ok: true; value: ReadingValue } | { ok: false; status: string };

const INT_RANGES: Record<string, readonly [number, number]> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Status set when a value does not fit its point's declared type. */
export const TYPE_MISMATCH = "TypeMismatch";

const mismatch: Normalized = { ok: false, status: TYPE_MISMATCH };

/** Normalizes `raw` for a point of type `type`. Never throws. */
export function normalizeValue(type: PointType, raw: SampleValue): Normalized {
  if (raw === null) return { ok: true, value: null };
  if (type.endsWith("[]")) {
    if (!Array.isArray(raw)) return mismatch;
    const scalar = type.slice(0, -2) as ScalarType;
    const out: ReadingValue[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const n = normalizeScalar(scalar, raw[i] as SampleValue);
      if (!n.ok) return n;
      out[i] = n.value;
    }
    return { ok: true, value: out };
  }
  return normalizeScalar(type as ScalarType, raw);
}

function normalizeScalar(type: ScalarType, raw: SampleValue): Normalized {
  switch (type) {
    case "bool":
      return typeof raw === "boolean" ? { ok: true, value: raw } : mismatch;
    case "int16":
    case "uint16":
    case "int32":
    case "uint32": {
      const [min, max] = INT_RANGES[type]!;
      const n = typeof raw === "bigint" ? Number(raw) : raw;
      return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
        ? { ok: true, value: n }
        : mismatch;
    }
    case "int64":
    case "uint64":
      return normalizeInt64(type, raw);
    case "float32":
    case "float64":
      if (typeof raw !== "number") return mismatch;
      if (Number.isFinite(raw)) return { ok: true, value: raw };
      return { ok: false, status: Number.isNaN(raw) ? "NaN" : "Infinity" };
    case "string":
      return typeof raw === "string" ? { ok: true, value: raw } : mismatch;
    case "bytes":
      if (raw instanceof Uint8Array) return { ok: true, value: Buffer.from(raw).toString("base64") };
      return typeof raw === "string" ? { ok: true, value: raw } : mismatch;
    case "datetime":
      return normalizeDate(raw);
    case "json":
      return typeof raw === "bigint" || raw instanceof Uint8Array
        ? mismatch
        : { ok: true, value: raw as ReadingValue };
  }
}

function normalizeInt64(type: "int64" | "uint64", raw: SampleValue): Normalized {
  let big: bigint;
  if (typeof raw === "bigint") big = raw;
  else if (typeof raw === "number" && Number.isSafeInteger(raw)) big = BigInt(raw);
  else if (typeof raw === "string" && /^-?\d+$/.test(raw)) big = BigInt(raw);
  else return mismatch;
  const min = type === "int64" ? INT64_MIN : 0n;
  const max = type === "int64" ? INT64_MAX : UINT64_MAX;
  if (big < min || big > max) return mismatch;
  return { ok: true, value: big > SAFE_MAX || big < -SAFE_MAX ? big.toString() : Number(big) };
}

function normalizeDate(raw: SampleValue): Normalized {
  const d =
    raw instanceof Date ? raw : typeof raw === "number" || typeof raw === "string" ? new Date(raw) : null;
  if (d === null || Number.isNaN(d.getTime())) return mismatch;
  return { ok: true, value: d.toISOString() };
}

/** True for types whose values are numbers a scale, offset or deadband can apply to. */
export function isNumericType(type: PointType): boolean {
  return (
    type === "int16" ||
    type === "uint16" ||
    type === "int32" ||
    type === "uint32" ||
    type === "int64" ||
    type === "uint64" ||
    type === "float32" ||
    type === "float64"
  );
}
