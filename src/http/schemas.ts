/**
 * TypeBox schemas of the HTTP API's own shapes. They mirror interfaces in src/core/types.ts; the
 * compile-time checks at the bottom fail the build when the two drift apart. Device counters are
 * declared once, in src/schema/device-counters.ts, and used by both.
 */
import Type, { type Static, type TSchema } from "typebox";
import type { DeviceInfo, PointInfo, ReadingFilter } from "../core/types.js";
import { DeviceCountersSchema } from "../schema/device-counters.js";
import { ReadingSchema } from "../schema/reading.js";
import type { BrowseNode, DeviceState } from "../sdk/adapter.js";
import { coreDeviceProperties, corePointProperties } from "../sdk/point.js";

const DEVICE_STATES = ["connecting", "connected", "degraded", "disconnected", "faulted", "stopped"] as const;

/** Device and point ids share one pattern (from the SDK); anything else is rejected with 400. */
const ID_PATTERN = idPattern();
const ID_BODY = ID_PATTERN.replace(/^\^/, "").replace(/\$$/, "");

function idPattern(): string {
  const pattern: unknown = (coreDeviceProperties.id as { pattern?: unknown }).pattern;
  if (typeof pattern !== "string") throw new Error("src/sdk/point.ts: device id schema has no pattern");
  return pattern;
}

export const DeviceInfoSchema = Type.Object(
  {
    id: Type.String({ description: "Device id from config." }),
    type: Type.String({ description: "Adapter type talking to the device." }),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean({ description: "false: configured but not running." }),
    state: Type.Enum(DEVICE_STATES, { description: "Connection state of the device." }),
    stateReason: Type.Optional(
      Type.String({ description: "Why the device is in this state, e.g. the last error." }),
    ),
    stateSince: Type.String({ format: "date-time", description: "ISO time of the last state change." }),
    pointCount: Type.Integer({ minimum: 0 }),
    counters: DeviceCountersSchema,
  },
  { additionalProperties: false, description: "A configured device, its state and counters." },
);

export const PointInfoSchema = Type.Object(
  {
    ...corePointProperties,
    address: Type.Optional(Type.String({ description: "Source address of the point, as configured." })),
    latest: Type.Optional({
      ...ReadingSchema,
      description: "Latest reading of the point; absent before the first.",
    }),
  },
  { additionalProperties: false, description: "A point: its core configuration and its latest reading." },
);

/** A response that is not JSON: its media type and schema, in the form Fastify and OpenAPI both read. */
export function nonJsonResponse(mediaType: string, schema: TSchema, description: string) {
  return { description, content: { [mediaType]: { schema } } };
}

/** A device id in a path. */
export const DeviceParamsSchema = Type.Object(
  { device: Type.String({ pattern: ID_PATTERN, maxLength: 128, description: "Device id." }) },
  { additionalProperties: false },
);

/** A device and a point id in a path. */
export const PointParamsSchema = Type.Object(
  {
    device: Type.String({ pattern: ID_PATTERN, maxLength: 128, description: "Device id." }),
    point: Type.String({ pattern: ID_PATTERN, maxLength: 128, description: "Point id." }),
  },
  { additionalProperties: false },
);

const idList = (what: string) =>
  Type.Optional(
    Type.String({
      pattern: `^${ID_BODY}(,${ID_BODY})*$`,
      maxLength: 4096,
      description: `Comma-separated ${what} ids; only readings of these ${what}s. Absent: all.`,
    }),
  );

/** `?device=a,b&point=x,y`, shared by the latest, stream and events routes. Unknown keys are rejected. */
export const ReadingQuerySchema = Type.Object(
  { device: idList("device"), point: idList("point") },
  { additionalProperties: false },
);

/** `?node=…` of the browse route: an adapter address such as an OPC UA NodeId. */
export const BrowseQuerySchema = Type.Object(
  {
    node: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: "Node to list; the root when omitted." }),
    ),
  },
  { additionalProperties: false },
);

/** One node of a browsed address space (mirrors `BrowseNode` in the SDK). */
export const BrowseNodeSchema = Type.Object(
  {
    id: Type.String({ description: "Address to put in a point's config, or to browse further." }),
    name: Type.String({ description: "Display name." }),
    browseName: Type.Optional(
      Type.String({ description: "The protocol's own name of the node (OPC UA BrowseName)." }),
    ),
    dataType: Type.Optional(
      Type.String({ description: "The protocol's data type name of a variable, e.g. Double." }),
    ),
    kind: Type.String({ description: "Node class, e.g. Object, Variable, Folder." }),
    type: Type.Optional(Type.String({ description: "Point type a variable would have, when known." })),
    access: Type.Optional(Type.Enum(["read", "readwrite"], { description: "Whether it can be written." })),
    hasChildren: Type.Boolean({ description: "Whether browsing it returns anything." }),
  },
  { additionalProperties: false },
);

/** `?device=&point=&snapshot=` of the stream routes; `access_token` is taken out by the auth check. */
export const StreamQuerySchema = Type.Object(
  {
    device: ReadingQuerySchema.properties.device,
    point: ReadingQuerySchema.properties.point,
    snapshot: Type.Optional(
      Type.Boolean({
        default: true,
        description: "Start with the latest value of every matching point (default true).",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The parsed `?device=&point=` query. */
export type ReadingQuery = Static<typeof ReadingQuerySchema>;

/** Turns the validated query into a bus filter; an absent list matches everything. */
export function filterFromQuery(query: ReadingQuery): ReadingFilter {
  const filter: ReadingFilter = {};
  if (query.device) filter.devices = query.device.split(",");
  if (query.point) filter.points = query.point.split(",");
  return filter;
}

// Compile-time drift checks: each schema's static type and the core interface must be assignable both
// ways. A field added, removed or retyped on either side breaks `tsc`.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameDevice: Same<Static<typeof DeviceInfoSchema>, DeviceInfo> = true;
const samePoint: Same<Static<typeof PointInfoSchema>, PointInfo> = true;
const sameStates: Same<(typeof DEVICE_STATES)[number], DeviceState> = true;
/** Always true; exists so the drift checks above are not dead code to the linter. */
const sameBrowse: Same<Static<typeof BrowseNodeSchema>, BrowseNode> = true;
export const SCHEMAS_MATCH_CORE_TYPES = sameDevice && samePoint && sameStates && sameBrowse;
