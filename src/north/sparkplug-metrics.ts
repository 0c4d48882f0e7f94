/**
 * Readings as Sparkplug B metrics, encoded with Eclipse Tahu's codec (sparkplug-payload). The
 * protocols/sparkplug encoder has no metric properties or `is_historical`, which an edge node needs
 * (quality as a property, replayed data flagged historical), hence this small encoder over the same
 * codec and the same type mapping (`sparkplugTypeOf`).
 */
import sparkplug from "sparkplug-payload";
import type { UMetric, UPayload } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { type SparkplugType, sparkplugTypeOf } from "../../protocols/sparkplug/payload.js";
import type { Reading } from "../schema/reading.js";

const codec = sparkplug.get("spBv1.0");
if (!codec) throw new Error("sparkplug-payload has no spBv1.0 codec");
const spb = codec;

/** OPC UA-style quality codes, as Ignition and other hosts read the `Quality` property. */
export const QUALITY_CODES = { good: 192, uncertain: 64, bad: 0 } as const;

/** The Sparkplug type a Reading's point type is published as (arrays and json as JSON text). */
export function metricTypeOf(pointType: string): SparkplugType {
  return pointType.endsWith("[]") ? "String" : sparkplugTypeOf(pointType);
}

/** A Reading's value as the codec takes it for `type`. */
export function metricValue(type: SparkplugType, r: Pick<Reading, "value">): UMetric["value"] {
  const v = r.value;
  if (v === null || v === undefined) return null;
  switch (type) {
    case "Bytes":
      return typeof v === "string" ? Buffer.from(v, "base64") : null;
    case "DateTime":
      return typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : null;
    case "String":
      return typeof v === "string" ? v : JSON.stringify(v);
    case "Boolean":
      return Boolean(v);
    default:
      return typeof v === "number" || typeof v === "string" ? v : null;
  }
}

/** One metric to encode. */
export interface MetricOut {
  name?: string;
  alias?: number;
  type: SparkplugType;
  reading?: Pick<Reading, "value" | "quality" | "ts">;
  value?: UMetric["value"];
  historical?: boolean;
}

function toMetric(m: MetricOut): UMetric {
  const value = m.reading ? metricValue(m.type, m.reading) : (m.value ?? null);
  const out = { type: m.type, value } as UMetric;
  if (value === null) out.isNull = true;
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = m.alias;
  if (m.reading) {
    out.timestamp = Date.parse(m.reading.ts);
    out.properties = { Quality: { type: "Int32", value: QUALITY_CODES[m.reading.quality] } };
  }
  if (m.historical) out.isHistorical = true;
  return out;
}

/** Encodes a payload; `seq` is omitted for NDEATH. */
export function encode(
  timestamp: number,
  seq: number | undefined,
  metrics: readonly MetricOut[],
): Uint8Array {
  const p: UPayload = { timestamp, metrics: metrics.map(toMetric) };
  if (seq !== undefined) p.seq = seq;
  return spb.encodePayload(p);
}
