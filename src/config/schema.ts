/**
 * The gateway configuration file, version 1, declared once in TypeBox. Devices are validated one
 * by one against their adapter's device schema (see load.ts); `gatewaySchemaFor` assembles the
 * whole-file schema with a union of every adapter's device schema, for editors.
 */

import Type, { type Static, type TObject, type TSchema } from "typebox";
import { type HistoryConfig, HistoryConfigSchema } from "../history/config.js";
import { type AuthConfig, AuthConfigSchema, type HttpConfig, HttpConfigSchema } from "../http/config.js";
import { BUILTIN_SINKS } from "../north/builtin-sinks.js";
import type { NorthConfig } from "../north/config.js";
import { northSchemaFor } from "../north/sink-schema.js";
import type { AdapterDefinition } from "../sdk/adapter.js";
import {
  type CorePoint,
  coreDeviceProperties,
  corePointProperties,
  deviceSchemaFor,
  POLL_PHASE_TEXT,
  POLL_PHASES,
  type PointConfig,
  type ReconnectSchema,
} from "../sdk/point.js";
import type { SinkDefinition } from "../sdk/sink.js";

/** pino levels accepted in `log.level`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** A pino level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Same rule as device and point ids, so a gateway id can sit in topics and URLs next to them. */
const ID_PATTERN = (coreDeviceProperties.id as unknown as { pattern: string }).pattern;

/** npm package names, scoped or not (the rules of validate-npm-package-name, minus legacy names). */
const PACKAGE_PATTERN = "^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$";

const LogSchema = Type.Object(
  {
    level: Type.Optional(
      Type.Enum(LOG_LEVELS, {
        default: "info",
        description: "Lowest level logged; info (default) stays quiet in normal operation.",
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: "Logging." },
);

/**
 * Top-level fields; `devices` items and the `north` array are given by the caller (per-adapter and
 * per-sink unions, or anything).
 */
function gatewayProperties(deviceItems: TSchema, north: TSchema) {
  return {
    version: Type.Literal(1, { description: "Version of this file's format. Always 1." }),
    gateway: Type.String({
      pattern: ID_PATTERN,
      maxLength: 128,
      description: "Id of this gateway, put on every reading: letters, digits, _ . : -",
    }),
    dataDir: Type.Optional(
      Type.String({
        minLength: 1,
        default: "./data",
        description:
          "Directory for durable state (buffers, history, certificates); relative to this file's directory.",
      }),
    ),
    secretsDir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "A directory that `file:` placeholders may read besides the config file's own (e.g. /run/secrets); relative to this file's directory. Files elsewhere are refused.",
      }),
    ),
    http: Type.Optional(HttpConfigSchema),
    auth: Type.Optional(AuthConfigSchema),
    history: Type.Optional(HistoryConfigSchema),
    north: Type.Optional(north),
    log: Type.Optional(LogSchema),
    pollPhase: Type.Optional(
      Type.Enum(POLL_PHASES, {
        default: "grid",
        description: `${POLL_PHASE_TEXT} The default of every device that does not set its own.`,
      }),
    ),
    shutdownTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        default: 10000,
        description:
          "On SIGTERM/SIGINT the process ends within this many ms, even when a device or a protocol library hangs: devices get half of it to stop, then north buffers and history are flushed.",
      }),
    ),
    adapters: Type.Optional(
      Type.Array(
        Type.String({
          pattern: PACKAGE_PATTERN,
          maxLength: 214,
          description: "npm package name of an adapter.",
        }),
        {
          default: [],
          uniqueItems: true,
          description:
            "Third-party adapter packages to load, by npm package name; built-in adapters need no entry.",
        },
      ),
    ),
    sinks: Type.Optional(
      Type.Array(
        Type.String({
          pattern: PACKAGE_PATTERN,
          maxLength: 214,
          description: "npm package name of a sink.",
        }),
        {
          uniqueItems: true,
          description:
            "Third-party sink packages to load, by npm package name, for `north:` entries of their type; built-in sinks (mqtt, sparkplug, nats) need no entry.",
        },
      ),
    ),
    devices: Type.Optional(
      Type.Array(deviceItems, {
        default: [],
        description: "Devices this gateway talks to, each with its points.",
      }),
    ),
  };
}

/**
 * The top level as load.ts validates it: devices and north sinks are only required to be arrays
 * here, since each device is then validated against its own adapter's schema, and each sink against
 * the core sink fields plus its type's settings, so that errors name that adapter or sink.
 */
export const GatewayTopSchema = Type.Object(
  gatewayProperties(
    Type.Unknown(),
    Type.Array(Type.Unknown(), {
      description: "North sinks: where readings are published, each with a durable store-and-forward buffer.",
    }),
  ),
  {
    additionalProperties: false,
  },
);

/**
 * A device of a type no adapter is known for (or with no type): the core fields are checked, the
 * adapter's own connection and point fields cannot be.
 */
export const GenericDeviceSchema = Type.Object(
  {
    ...coreDeviceProperties,
    connection: Type.Object(
      {},
      {
        additionalProperties: true,
        description: "Connection settings; their fields depend on the adapter type.",
      },
    ),
    points: Type.Array(Type.Object(corePointProperties, { additionalProperties: true }), {
      description: "Points (tags) read from the device.",
    }),
  },
  { additionalProperties: false },
);

/** The adapter's connection schema, with a description for editors when it has none (a copy: the adapter's stays as is). */
function describedConnection(definition: AdapterDefinition): TObject {
  const {
    type: _type,
    properties,
    required: _required,
    ...options
  } = definition.connectionSchema as TObject & Record<string, unknown>;
  const description =
    typeof options.description === "string"
      ? options.description
      : `Connection settings of the ${definition.type} adapter.`;
  return Type.Object(properties, { ...options, description });
}

/** JSON Schema `$id` of the gateway configuration file. */
export const GATEWAY_SCHEMA_ID = "https://tagbridge.dev/schema/gateway.v1.json";

/**
 * The whole configuration file's schema, for editors (`config/gateway.v1.schema.json`): `devices`
 * items are a union of the device schema of each adapter given, discriminated by `type`, and `north`
 * items a union of the entry schema of each sink type given (the built-in sinks by default).
 */
export function gatewaySchemaFor(
  definitions: readonly AdapterDefinition[],
  sinks: readonly SinkDefinition[] = BUILTIN_SINKS,
): TObject {
  const sorted = [...definitions].sort((a, b) => a.type.localeCompare(b.type));
  const items =
    sorted.length === 0
      ? GenericDeviceSchema
      : Type.Union(
          sorted.map((d) => deviceSchemaFor(d.type, describedConnection(d), d.pointSchema)),
          {
            description: "A device; `type` selects the adapter, which defines `connection` and point fields.",
          },
        );
  return Type.Object(gatewayProperties(items, northSchemaFor(sinks)), {
    $id: GATEWAY_SCHEMA_ID,
    title: "tagbridge gateway configuration v1",
    description: "One tagbridge gateway: its id, services, and the devices and points it reads.",
    additionalProperties: false,
  });
}

export type { AuthConfig, HttpConfig };
/** `log`, defaults applied. */
export interface LogConfig {
  level: LogLevel;
}

/** A point as loaded: core fields with `access` and `publish` defaulted, plus the adapter's own fields. */
export type PointConfigLoaded = PointConfig<Record<string, unknown>> &
  Required<Pick<CorePoint, "access" | "publish">>;

type CoreDevice = Static<TObject<typeof coreDeviceProperties>>;

/** A device as loaded: core fields with defaults applied, the adapter's connection settings and points. */
export type DeviceConfig = Omit<CoreDevice, "enabled" | "pollIntervalMs" | "reconnect"> & {
  enabled: boolean;
  pollIntervalMs: number;
  reconnect: Static<typeof ReconnectSchema>;
  connection: Record<string, unknown>;
  points: PointConfigLoaded[];
};

/** A validated gateway configuration, defaults applied, `dataDir` absolute. */
export interface GatewayConfig {
  version: 1;
  gateway: string;
  dataDir: string;
  http: HttpConfig;
  auth: AuthConfig;
  history?: HistoryConfig;
  north?: NorthConfig;
  log: LogConfig;
  secretsDir?: string;
  /** Devices without their own `pollPhase` have it set to this by the loader. */
  pollPhase: (typeof POLL_PHASES)[number];
  shutdownTimeoutMs: number;
  adapters: string[];
  sinks?: string[];
  devices: DeviceConfig[];
}
