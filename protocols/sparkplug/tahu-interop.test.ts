/**
 * The codec (protobufjs 7 over wire.ts) against Eclipse Tahu's JavaScript codec (sparkplug-payload,
 * a dev dependency with its own protobufjs 6 and schema) as the independent implementation: what
 * one encodes, the other decodes to the same values, for every scalar type, metric properties,
 * is_historical, and Tahu's datasets, templates and property sets.
 */
import sparkplug from "sparkplug-payload";
import type { UMetric } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { describe, expect, it } from "vitest";
import { decodePayload, encodePayload, type MetricIn } from "./payload.js";

const tahu = sparkplug.get("spBv1.0")!;

/** A Tahu-decoded value as a plain value (Longs as decimal strings, via their own toString). */
const plain = (v: unknown): unknown =>
  typeof v === "object" && v !== null && "low" in v && "high" in v ? String(v) : v;

const scalars: [MetricIn, unknown][] = [
  [{ name: "i8", type: "Int8", value: -5 }, -5],
  [{ name: "i16", type: "Int16", value: -300 }, -300],
  [{ name: "i32", type: "Int32", value: -70000 }, -70000],
  [{ name: "u8", type: "UInt8", value: 200 }, 200],
  [{ name: "u16", type: "UInt16", value: 65535 }, 65535],
  [{ name: "i64", type: "Int64", value: "-9007199254740993" }, "-9007199254740993"],
  [{ name: "u64", type: "UInt64", value: "18446744073709551615" }, "18446744073709551615"],
  [{ name: "f", type: "Float", value: 1.5 }, 1.5],
  [{ name: "d", type: "Double", value: 0.1 }, 0.1],
  [{ name: "b", type: "Boolean", value: false }, false],
  [{ name: "s", type: "String", value: "héllo" }, "héllo"],
  [{ name: "t", type: "DateTime", value: 1735689600123 }, "1735689600123"],
];

describe("Sparkplug codec against Eclipse Tahu's", () => {
  it.each(scalars)("Tahu decodes our %j", (metric, expected) => {
    const bytes = encodePayload({
      timestamp: 1000,
      seq: 4,
      metrics: [{ ...metric, alias: 9, timestamp: 999 }],
    });
    const p = tahu.decodePayload(bytes);
    expect(plain(p.seq)).toBe("4");
    const m = p.metrics![0]!;
    expect(m).toMatchObject({ name: metric.name, type: metric.type });
    expect(plain(m.alias)).toBe("9");
    const got = String(plain(m.value));
    // Tahu's Int64 sign fix misses Longs from its protobufjs's own long.js, so it hands back the
    // uint64 bits: read them as two's complement.
    expect(metric.type === "Int64" ? BigInt.asIntN(64, BigInt(got)).toString() : got).toBe(String(expected));
  });

  it.each(scalars)("we decode Tahu's %j", (metric, expected) => {
    const value = metric.type === "DateTime" ? 1735689600123 : metric.value;
    const bytes = tahu.encodePayload({ timestamp: 1000, seq: 4, metrics: [{ ...metric, value } as UMetric] });
    const d = decodePayload(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.payload.seq).toBe(4);
    const want = metric.type === "DateTime" ? 1735689600123 : expected;
    expect(d.payload.metrics[0]).toMatchObject({ name: metric.name, type: metric.type, value: want });
  });

  it("metric properties, is_historical and null travel both ways", () => {
    const bytes = encodePayload({
      metrics: [
        {
          name: "q",
          type: "Double",
          value: 2.5,
          historical: true,
          properties: { Quality: { type: "Int32", value: 192 } },
        },
        { name: "n", type: "Int32", value: null },
      ],
    });
    const [q, n] = tahu.decodePayload(bytes).metrics!;
    expect(q).toMatchObject({ name: "q", value: 2.5, isHistorical: true });
    expect(q!.properties?.Quality).toMatchObject({ type: "Int32", value: 192 });
    expect(n).toMatchObject({ name: "n", value: null });
  });

  it("decodes Tahu's datasets, templates and property sets as plain objects", () => {
    const bytes = tahu.encodePayload({
      metrics: [
        {
          name: "ds",
          type: "DataSet",
          value: {
            numOfColumns: 2,
            columns: ["a", "b"],
            types: ["Int32", "String"],
            rows: [
              [-1, "x"],
              [2, "y"],
            ],
          },
        },
        {
          name: "tpl",
          type: "Template",
          value: {
            templateRef: "Motor",
            isDefinition: false,
            metrics: [{ name: "rpm", type: "Int32", value: 1500 }],
            parameters: [{ name: "site", type: "String", value: "L1" }],
          },
        },
      ] as UMetric[],
    });
    const d = decodePayload(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.payload.metrics[0]!.value).toEqual({
      columns: ["a", "b"],
      types: ["Int32", "String"],
      rows: [
        [-1, "x"],
        [2, "y"],
      ],
    });
    expect(d.payload.metrics[1]!.value).toEqual({
      templateRef: "Motor",
      metrics: [{ name: "rpm", type: "Int32", value: 1500 }],
      parameters: [{ name: "site", type: "String", value: "L1" }],
    });
  });
});
