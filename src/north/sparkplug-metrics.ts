/**
 * Readings as Sparkplug B metrics for the edge node sink: each with its quality as the `Quality`
 * property and, when replayed from the buffer, `is_historical`. Encoded by protocols/sparkplug's
 * codec with its type mapping (`sparkplugTypeOf`).
 */
import {
  encodePayload,
  type MetricIn,
  type SparkplugType,
  sparkplugTypeOf,
} from "../../protocols/sparkplug/payload.js";
import type { Reading } from "../schema/reading.js";

/** OPC UA-style quality codes, as Ignition and other hosts read the `Quality` property. */
export const QUALITY_CODES = { good: 192, uncertain: 64, bad: 0 } as const;

/** The Sparkplug type a Reading's point type is published as (arrays and json as JSON text). */
export function metricTypeOf(pointType: string): SparkplugType {
  return pointType.endsWith("[]") ? "String" : sparkplugTypeOf(pointType);
}

/** A Reading's value as the codec takes it for `type`. */
export function metricValue(type: SparkplugType, r: Pick<Reading, "value">): unknown {
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
  value?: unknown;
  historical?: boolean;
}

function toMetric(m: MetricOut): MetricIn {
  const out: MetricIn = {
    type: m.type,
    value: m.reading ? metricValue(m.type, m.reading) : (m.value ?? null),
  };
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = m.alias;
  if (m.reading) {
    out.timestamp = Date.parse(m.reading.ts);
    out.properties = { Quality: { type: "Int32", value: QUALITY_CODES[m.reading.quality] } };
  }
  if (m.historical) out.historical = true;
  return out;
}

/** Encodes a payload; `seq` is omitted for NDEATH. */
export function encode(
  timestamp: number,
  seq: number | undefined,
  metrics: readonly MetricOut[],
): Uint8Array {
  return encodePayload({ timestamp, ...(seq === undefined ? {} : { seq }), metrics: metrics.map(toMetric) });
}
