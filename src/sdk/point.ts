/**
 * The point and device fields the core owns, shared by every adapter. An adapter's own point
 * settings are merged into the same object in config (flat), so a point reads as one record.
 */
import Type, { type Static, type TObject } from "typebox";
import { POINT_TYPES } from "../schema/reading.js";

/** How a point's readings are published. */
export const PUBLISH_MODES = ["always", "onChange"] as const;

/** Deadband filter applied by the core to numeric points published `onChange`. */
export const DeadbandSchema = Type.Object(
  {
    mode: Type.Enum(["absolute", "percent"], {
      description:
        "absolute: publish when |new - last| > value. percent: publish when |new - last| > value% of |last| (any change when last is 0).",
    }),
    value: Type.Number({ minimum: 0, description: "Threshold, in the point's (scaled) unit or in percent." }),
  },
  { additionalProperties: false, description: "Suppress changes smaller than a threshold." },
);

/** The optional per-point `history:` field (the store itself is configured at the top level). */
export const PointHistorySchema = Type.Object(
  {
    retentionMs: Type.Integer({
      minimum: 0,
      description:
        "How long this point's readings are kept, in ms, instead of the gateway's `history.retentionMs`; 0: the point is not stored (and what was stored is deleted at the next sweep).",
    }),
  },
  { additionalProperties: false, description: "History settings of this point." },
);

/** The per-point `history:` field. */
export type PointHistory = Static<typeof PointHistorySchema>;

/** Fields every point has, whatever its adapter. */
export const corePointProperties = {
  id: Type.String({
    pattern: "^[A-Za-z0-9_][A-Za-z0-9_.:-]*$",
    maxLength: 128,
    description: "Point id, unique within its device: letters, digits, _ . : -",
  }),
  type: Type.Enum(POINT_TYPES, { description: "Value type of the point. A `[]` suffix makes it an array." }),
  description: Type.Optional(Type.String({ description: "Free text shown in the console and API." })),
  unit: Type.Optional(Type.String({ description: "Engineering unit put on every reading." })),
  access: Type.Optional(
    Type.Enum(["read", "readwrite"], {
      default: "read",
      description: "readwrite lets the API write the point; read (default) refuses writes.",
    }),
  ),
  pollIntervalMs: Type.Optional(
    Type.Integer({
      minimum: 10,
      description:
        "Poll interval for this point in ms; defaults to the device's. Points with one interval form a group read together.",
    }),
  ),
  scale: Type.Optional(
    Type.Number({
      description:
        "Multiplier applied to numeric values (value * scale + offset). Makes the reading float64.",
    }),
  ),
  offset: Type.Optional(Type.Number({ description: "Added after scale. Makes the reading float64." })),
  min: Type.Optional(
    Type.Number({ description: "Lowest value a write may set, in the point's (scaled) unit." }),
  ),
  max: Type.Optional(
    Type.Number({ description: "Highest value a write may set, in the point's (scaled) unit." }),
  ),
  deadband: Type.Optional(DeadbandSchema),
  publish: Type.Optional(
    Type.Enum(PUBLISH_MODES, {
      default: "onChange",
      description:
        "onChange (default): publish a reading when value, quality or status change (report by exception). always: every sample.",
    }),
  ),
  history: Type.Optional(PointHistorySchema),
  staleAfterMs: Type.Optional(
    Type.Integer({
      minimum: 10,
      description:
        "A polled point whose reads have not delivered a value for this many ms while the device is connected is published uncertain with status Stale; default 3 × its poll interval.",
    }),
  ),
  heartbeatMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      description:
        "With onChange, re-publish an unchanged value after this many ms, so consumers know it is still current.",
    }),
  ),
};

/** Schema of the core point fields alone. */
export const CorePointSchema = Type.Object(corePointProperties, { additionalProperties: false });

/** The core point fields, as config holds them. */
export type CorePoint = Static<typeof CorePointSchema>;

/** A point as an adapter sees it: the core fields plus the adapter's own point settings `P`. */
export type PointConfig<P = Record<string, never>> = CorePoint & P;

/** Reconnect backoff of a device after a connection-wide failure. */
export const ReconnectSchema = Type.Object(
  {
    minMs: Type.Integer({ minimum: 10, default: 1000, description: "First retry delay in ms." }),
    maxMs: Type.Integer({
      minimum: 10,
      default: 30000,
      description: "Longest retry delay in ms; the delay doubles up to it.",
    }),
  },
  { additionalProperties: false, description: "Reconnect backoff after a connection-wide failure." },
);

/** A device's reconnect backoff when its config sets none: the defaults of `ReconnectSchema`. */
export const DEFAULT_RECONNECT: Readonly<{ minMs: number; maxMs: number }> = Object.freeze({
  minMs: (ReconnectSchema.properties.minMs as { default?: number }).default ?? 1000,
  maxMs: (ReconnectSchema.properties.maxMs as { default?: number }).default ?? 30000,
});

/** When in its interval a device is polled: `grid` (the shared grid) or `spread` (see `pollPhase`). */
export const POLL_PHASES = ["grid", "spread"] as const;
/** What `pollPhase` means, for the device's field and the gateway's default. */
export const POLL_PHASE_TEXT =
  "When in each interval a device is polled. grid: on multiples of the interval, the same instants as every other grid device, so readings of devices line up in time. spread: at a fixed offset within the interval from a hash of the device id, so thousands of devices on one interval do not all send their requests in the same millisecond.";

/** Fields every device has, whatever its adapter. `connection` and point settings come from the adapter. */
export const coreDeviceProperties = {
  id: Type.String({
    pattern: "^[A-Za-z0-9_][A-Za-z0-9_.:-]*$",
    maxLength: 128,
    description: "Device id, unique in the gateway: letters, digits, _ . : -",
  }),
  type: Type.String({
    description:
      "Adapter type that talks to this device: simulator, modbus, opcua, mqtt, or a third-party type.",
  }),
  description: Type.Optional(Type.String({ description: "Free text shown in the console and API." })),
  enabled: Type.Optional(
    Type.Boolean({ default: true, description: "false keeps the device configured but not running." }),
  ),
  pollIntervalMs: Type.Optional(
    Type.Integer({
      minimum: 10,
      default: 1000,
      description: "Default poll interval for the device's points, in ms.",
    }),
  ),
  pollPhase: Type.Optional(
    Type.Enum(POLL_PHASES, {
      description: `${POLL_PHASE_TEXT} Defaults to the gateway's \`pollPhase\`.`,
    }),
  ),
  reconnect: Type.Optional(ReconnectSchema),
};

/** Builds the point schema of an adapter: core fields plus the adapter's, flat, unknown keys rejected. */
export function pointSchemaFor(adapterPointSchema: TObject): TObject {
  return Type.Object(
    { ...corePointProperties, ...adapterPointSchema.properties },
    { additionalProperties: false },
  );
}

/** Builds the device schema of an adapter type. */
export function deviceSchemaFor(
  type: string,
  connectionSchema: TObject,
  adapterPointSchema: TObject,
): TObject {
  return Type.Object(
    {
      ...coreDeviceProperties,
      type: Type.Literal(type, { description: "Adapter type that talks to this device." }),
      connection: connectionSchema,
      points: Type.Array(pointSchemaFor(adapterPointSchema), {
        description: "Points (tags) read from the device.",
      }),
    },
    { additionalProperties: false },
  );
}
