/**
 * OPC UA Variant ↔ tagbridge values. Pure: it uses node-opcua's value types and enums, never a
 * session or a socket. Runs once per notification, so it avoids needless allocation.
 */
import { coerceInt64, coerceUInt64 } from "node-opcua-basic-types";
import { DataType, Variant, VariantArrayType } from "node-opcua-variant";

/** A value type of the Reading schema (kept local: protocols/ imports nothing from src/). */
export type OpcuaValueType =
  | "bool"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "string"
  | "bytes"
  | "datetime"
  | "json";

/** A scalar or array value as a Reading carries it (bytes as base64, dates as ISO strings). */
export type ConvertedValue = number | boolean | string | null | ConvertedValue[] | { [k: string]: unknown };

/** The outcome of converting a Variant: the value and the Reading type it naturally has. */
export interface Converted {
  value: ConvertedValue;
  /** Scalar type, with a `[]` suffix for arrays and matrices (flattened). */
  type: OpcuaValueType | `${OpcuaValueType}[]`;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 4294967296n;
const TWO_64 = 18446744073709551616n;

/** The Reading type of each OPC UA built-in type. */
const TYPE_OF: Partial<Record<DataType, OpcuaValueType>> = {
  [DataType.Boolean]: "bool",
  [DataType.SByte]: "int16",
  [DataType.Byte]: "uint16",
  [DataType.Int16]: "int16",
  [DataType.UInt16]: "uint16",
  [DataType.Int32]: "int32",
  [DataType.UInt32]: "uint32",
  [DataType.Int64]: "int64",
  [DataType.UInt64]: "uint64",
  [DataType.Float]: "float32",
  [DataType.Double]: "float64",
  [DataType.String]: "string",
  [DataType.DateTime]: "datetime",
  [DataType.ByteString]: "bytes",
  [DataType.LocalizedText]: "string",
  [DataType.QualifiedName]: "string",
  [DataType.Guid]: "string",
  [DataType.NodeId]: "string",
  [DataType.ExpandedNodeId]: "string",
  [DataType.StatusCode]: "string",
  [DataType.XmlElement]: "string",
  [DataType.ExtensionObject]: "json",
  [DataType.DataValue]: "json",
  [DataType.Variant]: "json",
  [DataType.DiagnosticInfo]: "json",
};

/** The Reading type a node of built-in `dataType` produces, or undefined for Null and unknown types. */
export function pointTypeOf(dataType: DataType, isArray = false): string | undefined {
  const t = TYPE_OF[dataType];
  return t === undefined ? undefined : isArray ? `${t}[]` : t;
}

/** The name of built-in `dataType` (`Double`), its number as text when it has none. */
export function dataTypeName(dataType: number): string {
  return DataType[dataType] ?? String(dataType);
}

/** Int64/UInt64 as node-opcua holds them, `[high, low]`, to a number within ±2^53, else a decimal string. */
export function int64ToValue(hiLo: readonly number[], signed: boolean): number | string {
  let big = BigInt(hiLo[0] ?? 0) * TWO_32 + BigInt((hiLo[1] ?? 0) >>> 0);
  if (signed && (hiLo[0] ?? 0) & 0x80000000) big -= TWO_64;
  return big > SAFE || big < -SAFE ? big.toString() : Number(big);
}

/** One scalar of built-in type `dataType` to its Reading value. */
export function scalarToValue(dataType: DataType, v: unknown): ConvertedValue {
  if (v === null || v === undefined) return null;
  switch (dataType) {
    case DataType.Int64:
      return int64ToValue(v as number[], true);
    case DataType.UInt64:
      return int64ToValue(v as number[], false);
    case DataType.DateTime:
      return Number.isNaN((v as Date).getTime()) ? null : (v as Date).toISOString();
    case DataType.ByteString:
      return Buffer.from(v as Uint8Array).toString("base64");
    case DataType.LocalizedText:
      return (v as { text?: string | null }).text ?? "";
    case DataType.QualifiedName: {
      const q = v as { namespaceIndex: number; name?: string | null };
      return q.namespaceIndex ? `${q.namespaceIndex}:${q.name ?? ""}` : (q.name ?? "");
    }
    case DataType.NodeId:
    case DataType.ExpandedNodeId:
    case DataType.XmlElement:
    case DataType.Guid:
      return String(v);
    case DataType.StatusCode:
      return (v as { name: string }).name;
    case DataType.ExtensionObject:
    case DataType.DataValue:
    case DataType.Variant:
    case DataType.DiagnosticInfo:
      return toJson(v);
    default:
      return v as number | boolean | string;
  }
}

function toJson(v: unknown): ConvertedValue {
  const o = v as { toJSON?: () => unknown };
  const plain = typeof o.toJSON === "function" ? o.toJSON() : v;
  return JSON.parse(JSON.stringify(plain, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
}

/** A Variant as a Reading value and type. Matrices are flattened; Null gives `null`. */
export function variantToValue(variant: Variant | null | undefined): Converted {
  if (!variant || variant.dataType === DataType.Null) return { value: null, type: "json" };
  const scalarType = TYPE_OF[variant.dataType] ?? "json";
  if (variant.arrayType === VariantArrayType.Scalar) {
    return { value: scalarToValue(variant.dataType, variant.value), type: scalarType };
  }
  const items = (variant.value ?? []) as ArrayLike<unknown>;
  const out: ConvertedValue[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = scalarToValue(variant.dataType, items[i]);
  return { value: out, type: `${scalarType}[]` };
}

/** Raised when a value cannot be coerced to a node's data type; the message says why. */
export class CoercionError extends Error {
  override readonly name = "CoercionError";
}

const INT_RANGE: Partial<Record<DataType, readonly [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
};

const fail = (dataType: DataType, value: unknown, why = ""): never => {
  throw new CoercionError(
    // BigInt-safe: an int64 point hands over a bigint, which JSON.stringify refuses.
    `cannot write ${JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? String(value)} to a ${DataType[dataType]} node${why}`,
  );
};

function toNumber(dataType: DataType, value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || Number.isNaN(n)) return fail(dataType, value);
  return n;
}

function toBigInt(dataType: DataType, value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return fail(dataType, value, ": expected an integer or a decimal string");
}

/** One scalar coerced to what node-opcua expects for `dataType`; throws CoercionError. */
export function coerceScalar(dataType: DataType, value: unknown): unknown {
  const range = INT_RANGE[dataType];
  if (range) {
    const n = toNumber(dataType, value);
    if (!Number.isInteger(n) || n < range[0] || n > range[1])
      fail(dataType, value, `: expected an integer in [${range[0]}, ${range[1]}]`);
    return n;
  }
  switch (dataType) {
    case DataType.Boolean:
      if (typeof value === "boolean") return value;
      if (value === 0 || value === 1) return value === 1;
      if (value === "true" || value === "false") return value === "true";
      return fail(dataType, value);
    case DataType.Int64:
    case DataType.UInt64: {
      const big = toBigInt(dataType, value);
      const [min, max] = dataType === DataType.Int64 ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, TWO_64 - 1n];
      if (big < min || big > max) fail(dataType, value, ": out of range");
      const u = big < 0n ? big + TWO_64 : big;
      const hiLo = [Number(u / TWO_32), Number(u % TWO_32)];
      return dataType === DataType.Int64 ? coerceInt64(hiLo) : coerceUInt64(hiLo);
    }
    case DataType.Float: {
      const n = toNumber(dataType, value);
      if (Number.isFinite(n) && Math.abs(n) > 3.4028234663852886e38) fail(dataType, value, ": out of range");
      return n;
    }
    case DataType.Double:
      return toNumber(dataType, value);
    case DataType.String:
    case DataType.XmlElement:
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return fail(dataType, value);
    case DataType.LocalizedText:
      return typeof value === "string" ? { text: value } : fail(dataType, value);
    case DataType.DateTime: {
      const d = typeof value === "string" || typeof value === "number" ? new Date(value) : value;
      if (!(d instanceof Date) || Number.isNaN(d.getTime())) fail(dataType, value, ": expected ISO 8601");
      return d;
    }
    case DataType.ByteString:
      if (typeof value === "string") return Buffer.from(value, "base64");
      if (value instanceof Uint8Array) return Buffer.from(value);
      return fail(dataType, value, ": expected base64");
    case DataType.Guid:
    case DataType.NodeId:
      return typeof value === "string" ? value : fail(dataType, value);
    default:
      return fail(dataType, value, ": writes of this type are not supported");
  }
}

/** `value` as a Variant of the node's `dataType` (an array when `isArray`); throws CoercionError. */
export function valueToVariant(dataType: DataType, isArray: boolean, value: unknown): Variant {
  if (isArray) {
    if (!Array.isArray(value)) fail(dataType, value, ": expected an array");
    const items = (value as unknown[]).map((x) => coerceScalar(dataType, x));
    return new Variant({ dataType, arrayType: VariantArrayType.Array, value: items });
  }
  return new Variant({ dataType, arrayType: VariantArrayType.Scalar, value: coerceScalar(dataType, value) });
}
