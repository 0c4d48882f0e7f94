/**
 * Sparkplug B payloads through Eclipse Tahu's codec (sparkplug-payload): decoding to plain values
 * (64-bit integers beyond ±2^53 as decimal strings, never lossy numbers), encoding for births, data
 * and commands, and the mapping of Sparkplug data types to Reading types. Pure.
 */
import sparkplug from "sparkplug-payload";
import type { UMetric, UPayload } from "sparkplug-payload/lib/sparkplugbpayload.js";

const codec = sparkplug.get("spBv1.0");
if (!codec) throw new Error("sparkplug-payload has no spBv1.0 codec");
const spb = codec;

/** A Sparkplug data type name as Tahu spells it (`Int32`, `Double`, `Boolean`, …). */
export type SparkplugType = UMetric["type"];

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

interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toString(): string;
}

const isLong = (v: unknown): v is LongLike =>
  typeof v === "object" && v !== null && "low" in v && "high" in v && "unsigned" in v;

/** A 64-bit wire integer (Long or number) as a number when safe, else a decimal string. */
export function fromLong(v: unknown): number | string {
  if (typeof v === "number") return v;
  if (isLong(v)) {
    const s = v.toString();
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : s;
  }
  return String(v);
}

/** Int64 travels as uint64; Tahu's own sign fix misses Longs from protobufjs's copy of long.js. */
function signed64(v: unknown): number | string {
  const big = BigInt.asIntN(64, BigInt(fromLong(v)));
  return big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

function toNumber(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(fromLong(v));
  return Number.isFinite(n) ? n : undefined;
}

function metricValue(m: UMetric): MetricValue {
  const v = m.value;
  if (v === null || v === undefined) return null;
  if (m.type === "Int64") return signed64(v);
  if (m.type === "UInt64" || m.type === "UInt32") return fromLong(v);
  if (m.type === "DateTime") return toNumber(v) ?? null;
  if (isLong(v)) return fromLong(v);
  if (v instanceof Uint8Array || typeof v !== "object") return v as MetricValue;
  return JSON.parse(JSON.stringify(v, (_k, x) => (isLong(x) ? fromLong(x) : x))) as MetricValue;
}

/** Decodes a Sparkplug B payload. Never throws: malformed bytes give `{ok: false}`. */
export function decodePayload(bytes: Uint8Array): Decoded {
  let raw: UPayload;
  try {
    raw = spb.decodePayload(bytes);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const metrics: Metric[] = [];
  for (const m of raw.metrics ?? []) {
    if (!m.type || !(m.type in READING_TYPES)) return { ok: false, error: `unknown metric datatype` };
    const out: Metric = { type: m.type, value: metricValue(m) };
    if (typeof m.name === "string") out.name = m.name;
    if (m.alias !== undefined && m.alias !== null) out.alias = String(fromLong(m.alias));
    const ts = toNumber(m.timestamp);
    if (ts !== undefined) out.timestamp = ts;
    metrics.push(out);
  }
  const payload: Payload = { metrics };
  const ts = toNumber(raw.timestamp);
  if (ts !== undefined) payload.timestamp = ts;
  const seq = toNumber(raw.seq);
  if (seq !== undefined) payload.seq = seq;
  return { ok: true, payload };
}

/** A metric to encode; `value` may be a decimal string for 64-bit types. */
export interface MetricIn {
  name?: string;
  alias?: number;
  type: SparkplugType;
  value: unknown;
  timestamp?: number;
}

/** Encodes a payload (birth, data, death or command). */
export function encodePayload(p: {
  timestamp?: number;
  seq?: number;
  metrics: readonly MetricIn[];
}): Uint8Array {
  const obj: UPayload = { metrics: p.metrics.map(encodeMetric) };
  if (p.timestamp !== undefined) obj.timestamp = p.timestamp;
  if (p.seq !== undefined) obj.seq = p.seq;
  return spb.encodePayload(obj);
}

function encodeMetric(m: MetricIn): UMetric {
  let value = m.value;
  if (m.type === "DateTime" && typeof value === "string") value = Date.parse(value);
  const out = { type: m.type, value: (value ?? null) as UMetric["value"] } as UMetric;
  if (value === null || value === undefined) out.isNull = true;
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = m.alias;
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  return out;
}

/** The rebirth command metric an NCMD carries to ask an edge node for new births. */
export const REBIRTH_METRIC = "Node Control/Rebirth";
