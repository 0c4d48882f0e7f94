/**
 * The Sparkplug B payload's protobuf schema (Eclipse Sparkplug 3.0, "Payload" message), compiled
 * with protobufjs 7 at load. Field numbers and wire types are those of the specification; names
 * are camelCase as protobufjs hands them out. Extension ranges are left out: their fields are
 * skipped on decode like any unknown field. Pure.
 */
import protobuf from "protobufjs/light.js";

/** The `value` oneof shared by parameters, dataset cells and property values (numbers differ). */
function scalarValues(first: number): Record<string, { type: string; id: number }> {
  const names = ["intValue", "longValue", "floatValue", "doubleValue", "booleanValue", "stringValue"];
  const types = ["uint32", "uint64", "float", "double", "bool", "string"];
  return Object.fromEntries(names.map((n, i) => [n, { type: types[i]!, id: first + i }]));
}

const oneof = (fields: Record<string, unknown>) => ({ value: { oneof: Object.keys(fields) } });

const parameterValues = scalarValues(3);
const cellValues = scalarValues(1);
const propertyValues = {
  ...scalarValues(3),
  propertysetValue: { type: "PropertySet", id: 9 },
  propertysetsValue: { type: "PropertySetList", id: 10 },
};
const metricValues = {
  ...scalarValues(10),
  bytesValue: { type: "bytes", id: 16 },
  datasetValue: { type: "DataSet", id: 17 },
  templateValue: { type: "Template", id: 18 },
};

const root = protobuf.Root.fromJSON({
  nested: {
    Payload: {
      fields: {
        timestamp: { type: "uint64", id: 1 },
        metrics: { rule: "repeated", type: "Metric", id: 2 },
        seq: { type: "uint64", id: 3 },
        uuid: { type: "string", id: 4 },
        body: { type: "bytes", id: 5 },
      },
      nested: {
        Template: {
          oneofs: {},
          fields: {
            version: { type: "string", id: 1 },
            metrics: { rule: "repeated", type: "Metric", id: 2 },
            parameters: { rule: "repeated", type: "Parameter", id: 3 },
            templateRef: { type: "string", id: 4 },
            isDefinition: { type: "bool", id: 5 },
          },
          nested: {
            Parameter: {
              oneofs: oneof(parameterValues),
              fields: {
                name: { type: "string", id: 1 },
                type: { type: "uint32", id: 2 },
                ...parameterValues,
              },
            },
          },
        },
        DataSet: {
          fields: {
            numOfColumns: { type: "uint64", id: 1 },
            columns: { rule: "repeated", type: "string", id: 2 },
            types: { rule: "repeated", type: "uint32", id: 3 },
            rows: { rule: "repeated", type: "Row", id: 4 },
          },
          nested: {
            DataSetValue: { oneofs: oneof(cellValues), fields: cellValues },
            Row: { fields: { elements: { rule: "repeated", type: "DataSetValue", id: 1 } } },
          },
        },
        PropertyValue: {
          oneofs: oneof(propertyValues),
          fields: { type: { type: "uint32", id: 1 }, isNull: { type: "bool", id: 2 }, ...propertyValues },
        },
        PropertySet: {
          fields: {
            keys: { rule: "repeated", type: "string", id: 1 },
            values: { rule: "repeated", type: "PropertyValue", id: 2 },
          },
        },
        PropertySetList: { fields: { propertyset: { rule: "repeated", type: "PropertySet", id: 1 } } },
        MetaData: {
          fields: {
            isMultiPart: { type: "bool", id: 1 },
            contentType: { type: "string", id: 2 },
            size: { type: "uint64", id: 3 },
            seq: { type: "uint64", id: 4 },
            fileName: { type: "string", id: 5 },
            fileType: { type: "string", id: 6 },
            md5: { type: "string", id: 7 },
            description: { type: "string", id: 8 },
          },
        },
        Metric: {
          oneofs: oneof(metricValues),
          fields: {
            name: { type: "string", id: 1 },
            alias: { type: "uint64", id: 2 },
            timestamp: { type: "uint64", id: 3 },
            datatype: { type: "uint32", id: 4 },
            isHistorical: { type: "bool", id: 5 },
            isTransient: { type: "bool", id: 6 },
            isNull: { type: "bool", id: 7 },
            metadata: { type: "MetaData", id: 8 },
            properties: { type: "PropertySet", id: 9 },
            ...metricValues,
          },
        },
      },
    },
  },
});

/** The compiled `Payload` message type. */
export const PayloadType = root.lookupType("Payload");

/** A uint64 as protobufjs decodes it (a Long when long.js is present, else a number). */
export type WireU64 = number | { low: number; high: number; unsigned?: boolean };

/** The scalar part of any `value` oneof, as decoded. */
export interface WireValue {
  intValue?: number;
  longValue?: WireU64;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  bytesValue?: Uint8Array;
}

export interface WirePropertyValue extends WireValue {
  type?: number;
  isNull?: boolean;
  propertysetValue?: WirePropertySet;
  propertysetsValue?: { propertyset?: WirePropertySet[] };
}

export interface WirePropertySet {
  keys?: string[];
  values?: WirePropertyValue[];
}

export interface WireMetric extends WireValue {
  name?: string;
  alias?: WireU64;
  timestamp?: WireU64;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  properties?: WirePropertySet;
  datasetValue?: {
    columns?: string[];
    types?: number[];
    rows?: { elements?: WireValue[] }[];
  };
  templateValue?: {
    version?: string;
    templateRef?: string;
    isDefinition?: boolean;
    metrics?: WireMetric[];
    parameters?: (WireValue & { name?: string; type?: number })[];
  };
}

export interface WirePayload {
  timestamp?: WireU64;
  seq?: WireU64;
  metrics?: WireMetric[];
}

/** Sparkplug data type codes (specification order; array types are not used here). */
export const DATA_TYPES = [
  "Unknown",
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float",
  "Double",
  "Boolean",
  "String",
  "DateTime",
  "Text",
  "UUID",
  "DataSet",
  "Bytes",
  "File",
  "Template",
  "PropertySet",
  "PropertySetList",
] as const;

/** A Sparkplug data type name (`Int32`, `Double`, `Boolean`, …), as the specification spells it. */
export type SparkplugType = Exclude<(typeof DATA_TYPES)[number], "Unknown">;

/** The uint64 bits of a bigint, as protobufjs's writer takes them. */
export function u64Bits(v: bigint): { low: number; high: number; unsigned: true } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

/** A decoded uint64 as a bigint (0..2^64-1). */
export function u64(v: WireU64): bigint {
  if (typeof v === "number") return BigInt.asUintN(64, BigInt(Math.trunc(v)));
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}
