/**
 * The Reading, version 1: the one public message schema every adapter's data is turned into.
 * This file is the only declaration of it; the TypeScript type, runtime validation, the
 * published JSON Schema (`config/reading.v1.schema.json`) and the HTTP route derive from
 * `ReadingSchema`; the fast JSON writer (reading-json.ts) is tested to write every field of it.
 */
import Type, { type Static } from "typebox";
import { Compile } from "typebox/compile";

/** Scalar value types a point can have; `[]` suffixed names are arrays of the scalar. */
export const SCALAR_TYPES = [
  "bool",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
  "bytes",
  "datetime",
  "json",
] as const;

/** A scalar point type name. */
export type ScalarType = (typeof SCALAR_TYPES)[number];
/** A point type name: a scalar or an array of one. */
export type PointType = ScalarType | `${ScalarType}[]`;

/** Every point type name, arrays included, in a stable order. */
export const POINT_TYPES: readonly PointType[] = [
  ...SCALAR_TYPES,
  ...SCALAR_TYPES.map((t) => `${t}[]` as const),
];

/** Quality of a reading, coarse on purpose: `status` carries the protocol detail. */
export const QUALITIES = ["good", "uncertain", "bad"] as const;
/** Quality of a reading. */
export type Quality = (typeof QUALITIES)[number];

const IsoTimestamp = (description: string) =>
  Type.String({
    format: "date-time",
    pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
    description,
  });

/** JSON value of a reading; the shape for a type is documented on `type`. */
const ValueSchema = Type.Union(
  [
    Type.Number(),
    Type.Boolean(),
    Type.String(),
    Type.Array(Type.Unknown()),
    Type.Object({}, { additionalProperties: true }),
    Type.Null(),
  ],
  {
    description:
      "The value. int64/uint64 outside ±2^53 as a decimal string; bytes as base64; datetime as ISO 8601; json as any JSON; null when no value could be read.",
  },
);

/** The Reading schema, version 1. Field names are part of the public contract. */
export const ReadingSchema = Type.Object(
  {
    gateway: Type.String({
      minLength: 1,
      description: "Id of the gateway instance that produced the reading.",
    }),
    device: Type.String({ minLength: 1, description: "Device id from the gateway configuration." }),
    point: Type.String({ minLength: 1, description: "Point (tag) id within the device." }),
    value: ValueSchema,
    type: Type.Enum(POINT_TYPES, { description: "Type of `value`; a `[]` suffix marks an array." }),
    quality: Type.Enum(QUALITIES, {
      description: "good, uncertain or bad; `status` gives the protocol detail.",
    }),
    status: Type.Optional(
      Type.String({
        description:
          "Protocol detail behind the quality: an OPC UA status code name, a Modbus exception, Timeout, Disconnected, …",
      }),
    ),
    ts: IsoTimestamp(
      "ISO 8601 UTC with milliseconds: the source timestamp where the device gives one, else the acquisition time.",
    ),
    receivedAt: IsoTimestamp("ISO 8601 UTC with milliseconds: when the gateway acquired the value."),
    unit: Type.Optional(Type.String({ description: "Engineering unit, from config or the device." })),
    protocol: Type.String({
      minLength: 1,
      description:
        "Adapter type that produced the reading: opcua, modbus, mqtt, simulator, or a third-party type.",
    }),
    address: Type.Optional(Type.String({ description: "Source address the value came from." })),
    seq: Type.Integer({
      minimum: 0,
      description:
        "Per-gateway sequence number, strictly increasing (also across restarts), for ordering and de-duplication.",
    }),
  },
  {
    $id: "https://tagbridge.dev/schema/reading.v1.json",
    title: "tagbridge Reading v1",
    description: "One reading of one point of one device, normalized by a tagbridge gateway.",
    additionalProperties: false,
  },
);

/** One reading of one point of one device. */
export type Reading = Static<typeof ReadingSchema>;
/** The value carried by a Reading. */
export type ReadingValue = Reading["value"];

/** Version of the Reading schema this build produces. */
export const READING_SCHEMA_VERSION = 1;

const compiled = Compile(ReadingSchema);

/** True when `value` is a valid Reading v1. */
export function isReading(value: unknown): value is Reading {
  return compiled.Check(value);
}

/** Every way `value` fails to be a Reading, as `path: message` lines (empty when valid). */
export function readingErrors(value: unknown): string[] {
  return [...compiled.Errors(value)].map((e) => `${e.instancePath || "/"}: ${e.message}`);
}
