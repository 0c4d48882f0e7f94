/**
 * Sparkplug B payloads over the specification's protobuf schema (wire.ts, protobufjs 7): decoding
 * to plain values (64-bit integers beyond ±2^53 as decimal strings, never lossy numbers), encoding
 * for births, data, deaths and commands, and the mapping of Sparkplug data types to Reading types.
 * Each value goes in the oneof field Eclipse Tahu's codecs use (UInt32 and DateTime in
 * `long_value`, signed 8/16/32-bit values as 32-bit two's complement in `int_value`). Pure.
 */
import {
  DATA_TYPES,
  PayloadType,
  type SparkplugType,
  u64,
  u64Bits,
  type WireMetric,
  type WirePayload,
  type WirePropertySet,
  type WirePropertyValue,
  type WireU64,
  type WireValue,
} from "./wire.js";

export type { SparkplugType } from "./wire.js";

/** A metric value after decoding: 64-bit integers are numbers when safe, decimal strings otherwise. */
export type MetricValue = number | boolean | string | Uint8Array | null | { readonly [k: string]: unknown };

/** One decoded metric. Aliases are decimal strings (they are uint64 on the wire). */
export interface Metric {
  name?: string;
  alias?: string;
  type: SparkplugType;
  value: MetricValue;
  /** Epoch ms. */
  timestamp?: number;
}

/** A decoded payload. `seq` is absent on NDEATH (which carries `bdSeq` as a metric instead). */
export interface Payload {
  /** Epoch ms. */
  timestamp?: number;
  seq?: number;
  metrics: Metric[];
}

/** The outcome of decoding: a payload, or why the bytes are not one. */
export type Decoded = { ok: true; payload: Payload } | { ok: false; error: string };

/** Sparkplug data type → Reading point type; types with no scalar counterpart map to `json`. */
export const READING_TYPES: Readonly<Record<SparkplugType, string>> = {
  Int8: "int16",
  Int16: "int16",
  Int32: "int32",
  Int64: "int64",
  UInt8: "uint16",
  UInt16: "uint16",
  UInt32: "uint32",
  UInt64: "uint64",
  Float: "float32",
  Double: "float64",
  Boolean: "bool",
  String: "string",
  Text: "string",
  UUID: "string",
  DateTime: "datetime",
  Bytes: "bytes",
  File: "bytes",
  DataSet: "json",
  Template: "json",
  PropertySet: "json",
  PropertySetList: "json",
};

/** Reading point type → the Sparkplug data type a gateway publishes it as (the reverse direction). */
export function sparkplugTypeOf(pointType: string): SparkplugType {
  const map: Record<string, SparkplugType> = {
    bool: "Boolean",
    int16: "Int16",
    uint16: "UInt16",
    int32: "Int32",
    uint32: "UInt32",
    int64: "Int64",
    uint64: "UInt64",
    float32: "Float",
    float64: "Double",
    string: "String",
    datetime: "DateTime",
    bytes: "Bytes",
  };
  return map[pointType] ?? "String";
}

type Plain = number | boolean | string | Uint8Array | null | Plain[] | { [k: string]: Plain };

const VALUE_FIELDS = [
  "intValue",
  "longValue",
  "floatValue",
  "doubleValue",
  "booleanValue",
  "stringValue",
  "bytesValue",
] as const;

/** The value a oneof carries, whichever scalar field is set (decoded messages keep defaults on the prototype). */
function setValue(v: WireValue): WireValue[keyof WireValue] {
  for (const f of VALUE_FIELDS) if (Object.hasOwn(v, f) && v[f] !== null) return v[f];
  return undefined;
}

const has = <T extends object>(o: T, k: keyof T): boolean => Object.hasOwn(o, k) && o[k] !== null;

/** A bigint as a number when safe, else a decimal string. */
function safe(b: bigint): number | string {
  return b >= -BigInt(Number.MAX_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(b)
    : b.toString();
}

function bits(raw: unknown): bigint | undefined {
  if (typeof raw === "number")
    return Number.isFinite(raw) ? BigInt.asUintN(64, BigInt(Math.trunc(raw))) : undefined;
  if (typeof raw === "object" && raw !== null && "low" in raw && "high" in raw) return u64(raw as WireU64);
  return undefined;
}

function scalar(type: SparkplugType | undefined, raw: unknown): Plain {
  if (raw === undefined || raw === null) return null;
  const b = bits(raw);
  if (b !== undefined)
    switch (type) {
      case "Int8":
        return Number(BigInt.asIntN(8, b));
      case "Int16":
        return Number(BigInt.asIntN(16, b));
      case "Int32":
        return Number(BigInt.asIntN(32, b));
      case "UInt8":
        return Number(BigInt.asUintN(8, b));
      case "UInt16":
        return Number(BigInt.asUintN(16, b));
      case "UInt32":
        return Number(BigInt.asUintN(32, b));
      case "Int64":
        return safe(BigInt.asIntN(64, b));
      case "UInt64":
      case "DateTime":
        return safe(b);
    }
  if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "string") return raw;
  if (raw instanceof Uint8Array) return raw;
  return b === undefined ? null : safe(b);
}

const typeName = (code: number | undefined): SparkplugType | undefined =>
  code === undefined || code === 0 ? undefined : (DATA_TYPES[code] as SparkplugType | undefined);

function propertyValue(p: WirePropertyValue): Plain {
  if (p.isNull) return null;
  if (has(p, "propertysetValue")) return propertySet(p.propertysetValue!);
  if (has(p, "propertysetsValue")) return (p.propertysetsValue!.propertyset ?? []).map(propertySet);
  return scalar(typeName(p.type), setValue(p));
}

/** A property set as `{key: value}`. */
function propertySet(s: WirePropertySet): { [k: string]: Plain } {
  const out: { [k: string]: Plain } = {};
  (s.keys ?? []).forEach((k, i) => {
    const v = s.values?.[i];
    out[k] = v ? propertyValue(v) : null;
  });
  return out;
}

/** A metric's value by its type; datasets, templates and property sets as JSON-friendly objects. */
function metricValue(type: SparkplugType, m: WireMetric): Plain {
  if (m.isNull) return null;
  if (type === "DataSet" && has(m, "datasetValue")) {
    const d = m.datasetValue!;
    const types = (d.types ?? []).map(typeName);
    return {
      columns: d.columns ?? [],
      types: types.map((t) => t ?? "Unknown"),
      rows: (d.rows ?? []).map((r) => (r.elements ?? []).map((e, i) => scalar(types[i], setValue(e)))),
    };
  }
  if (type === "Template" && has(m, "templateValue")) {
    const t = m.templateValue!;
    const out: { [k: string]: Plain } = {
      metrics: (t.metrics ?? []).flatMap((x) => {
        const xt = typeName(x.datatype);
        return xt ? [{ ...(x.name ? { name: x.name } : {}), type: xt, value: metricValue(xt, x) }] : [];
      }),
      parameters: (t.parameters ?? []).map((p) => ({
        name: p.name ?? "",
        type: typeName(p.type) ?? "Unknown",
        value: scalar(typeName(p.type), setValue(p)),
      })),
    };
    if (t.templateRef) out.templateRef = t.templateRef;
    if (t.version) out.version = t.version;
    if (t.isDefinition) out.isDefinition = true;
    return out;
  }
  if (type === "PropertySet" && has(m, "properties")) return propertySet(m.properties!);
  return scalar(type, setValue(m));
}

const epochMs = (raw: unknown): number | undefined => {
  const b = bits(raw);
  return b === undefined ? undefined : Number(b);
};

/** Decodes a Sparkplug B payload. Never throws: malformed bytes give `{ok: false}`. */
export function decodePayload(bytes: Uint8Array): Decoded {
  let raw: WirePayload;
  try {
    raw = PayloadType.decode(bytes) as WirePayload;
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const metrics: Metric[] = [];
  for (const m of raw.metrics ?? []) {
    const type = typeName(has(m, "datatype") ? m.datatype : undefined);
    if (!type || !(type in READING_TYPES)) return { ok: false, error: "unknown metric datatype" };
    const out: Metric = { type, value: metricValue(type, m) as MetricValue };
    if (has(m, "name")) out.name = m.name!;
    if (has(m, "alias")) out.alias = u64(m.alias!).toString();
    if (has(m, "timestamp")) out.timestamp = epochMs(m.timestamp);
    metrics.push(out);
  }
  const payload: Payload = { metrics };
  if (has(raw, "timestamp")) payload.timestamp = epochMs(raw.timestamp);
  if (has(raw, "seq")) payload.seq = epochMs(raw.seq);
  return { ok: true, payload };
}

/** A metric to encode; `value` may be a decimal string or bigint for 64-bit types. */
export interface MetricIn {
  name?: string;
  alias?: number;
  type: SparkplugType;
  value: unknown;
  timestamp?: number;
  /** Metric properties (e.g. `Quality`), each with its own type; scalar types only. */
  properties?: Readonly<Record<string, { type: SparkplugType; value: unknown }>>;
  /** Sets `is_historical`: the value is not live (replayed from a buffer). */
  historical?: boolean;
}

function integer(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/** Puts `value` in the oneof field its type travels in; false when it has no encoding (sent as null). */
function putValue(type: SparkplugType, value: unknown, out: Record<string, unknown>): boolean {
  switch (type) {
    case "Int8":
    case "Int16":
    case "Int32":
    case "UInt8":
    case "UInt16": {
      const n = integer(value);
      if (n === undefined) return false;
      out.intValue = Number(BigInt.asUintN(32, n));
      return true;
    }
    case "Int64":
    case "UInt32":
    case "UInt64":
    case "DateTime": {
      const n =
        type === "DateTime" && typeof value === "string" ? integer(Date.parse(value)) : integer(value);
      if (n === undefined) return false;
      out.longValue = u64Bits(n);
      return true;
    }
    case "Float":
    case "Double":
      if (typeof value !== "number" && typeof value !== "string") return false;
      out[type === "Float" ? "floatValue" : "doubleValue"] = Number(value);
      return true;
    case "Boolean":
      out.booleanValue = Boolean(value);
      return true;
    case "String":
    case "Text":
    case "UUID":
      out.stringValue = typeof value === "string" ? value : JSON.stringify(value);
      return true;
    case "Bytes":
    case "File":
      if (!(value instanceof Uint8Array)) return false;
      out.bytesValue = value;
      return true;
    default:
      throw new Error(`encoding Sparkplug ${type} metrics is not supported`);
  }
}

function encodeMetric(m: MetricIn): Record<string, unknown> {
  const out: Record<string, unknown> = { datatype: DATA_TYPES.indexOf(m.type) };
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = u64Bits(BigInt(m.alias));
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  if (m.historical) out.isHistorical = true;
  if (m.properties) {
    const keys = Object.keys(m.properties);
    out.properties = {
      keys,
      values: keys.map((k) => {
        const p = m.properties![k]!;
        const v: Record<string, unknown> = { type: DATA_TYPES.indexOf(p.type) };
        if (p.value === null || p.value === undefined || !putValue(p.type, p.value, v)) v.isNull = true;
        return v;
      }),
    };
  }
  if (m.value === null || m.value === undefined || !putValue(m.type, m.value, out)) out.isNull = true;
  return out;
}

/** Encodes a payload (birth, data, death or command). */
export function encodePayload(p: {
  timestamp?: number;
  seq?: number;
  metrics: readonly MetricIn[];
}): Uint8Array {
  const obj: Record<string, unknown> = { metrics: p.metrics.map(encodeMetric) };
  if (p.timestamp !== undefined) obj.timestamp = p.timestamp;
  if (p.seq !== undefined) obj.seq = p.seq;
  return PayloadType.encode(obj).finish();
}

/** The rebirth command metric an NCMD carries to ask an edge node for new births. */
export const REBIRTH_METRIC = "Node Control/Rebirth";
