/**
 * The core of north sink configuration: the fields every `north:` entry has whatever its type
 * (`id`, `description`, `enabled`, a point selection, its store-and-forward buffer, queue and
 * publish timeout), declared once. Each sink type adds its own settings (its definition's
 * `settingsSchema`: mqtt-config.ts, sparkplug-config.ts, nats-config.ts, or a package's).
 * Durations are integer milliseconds like the rest of the config.
 */
import Type, { type Static, type TObject } from "typebox";
import { CORE_SINK_FIELDS } from "../sdk/sink.js";

/** Defaults applied by the sink code when a field is absent. */
export const NORTH_DEFAULTS = {
  maxSizeMb: 256,
  maxAgeMs: 7 * 86_400_000,
  overflow: "drop-oldest",
  syncIntervalMs: 1_000,
  queueCapacity: 50_000,
  maxBatch: 1_000,
  publishTimeoutMs: 10_000,
} as const;

const Id = Type.String({
  pattern: "^[A-Za-z0-9_-]{1,64}$",
  description: "Sink id: letters, digits, _ and -; names the buffer file and the bus consumer north:<id>.",
});

/** Which readings a sink takes; globs with `*` (any run of characters) and `?` (one character). */
export const SelectSchema = Type.Object(
  {
    devices: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: "Device id globs, e.g. [press-*, oven?]; absent or empty: every device.",
      }),
    ),
    points: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: "Point id globs, e.g. [temp*]; absent or empty: every point.",
      }),
    ),
  },
  { additionalProperties: false, description: "Point selection; absent: everything." },
);

/** The durable store-and-forward buffer of one sink. */
export const BufferSchema = Type.Object(
  {
    maxSizeMb: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: NORTH_DEFAULTS.maxSizeMb,
        description:
          "Bound of the buffered readings in MiB (their JSON size; the file is somewhat larger). Beyond it the overflow policy applies. Default 256, which holds about 1 million simulator readings (about 250 bytes each): an outage of about 50 s at 20,000 readings/s, 8 min at 2,000/s.",
      }),
    ),
    maxAgeMs: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        default: NORTH_DEFAULTS.maxAgeMs,
        description: "Readings buffered longer than this are dropped (and counted). Default 7 days.",
      }),
    ),
    overflow: Type.Optional(
      Type.Enum(["drop-oldest", "drop-newest"], {
        default: NORTH_DEFAULTS.overflow,
        description:
          "When the buffer is full: drop-oldest (default) deletes the oldest buffered readings, drop-newest refuses the incoming ones. Every drop is counted.",
      }),
    ),
    syncIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 60_000,
        default: NORTH_DEFAULTS.syncIntervalMs,
        description:
          "How often readings waiting for the buffer are committed (and fsynced) to its SQLite file, in ms: the most a kill -9 or power cut can lose of buffered data. Default 1000.",
      }),
    ),
  },
  { additionalProperties: false, description: "Durable store-and-forward buffer (SQLite) of this sink." },
);

const common = {
  id: Id,
  description: Type.Optional(Type.String({ description: "Free text shown in the API." })),
  enabled: Type.Optional(
    Type.Boolean({ default: true, description: "false: the sink is configured but not started." }),
  ),
  select: Type.Optional(SelectSchema),
  buffer: Type.Optional(BufferSchema),
  queueCapacity: Type.Optional(
    Type.Integer({
      minimum: 100,
      default: NORTH_DEFAULTS.queueCapacity,
      description:
        "Bound of this sink's in-memory bus queue, in readings; when it is half full the sink diverts to the buffer. Default 50000.",
    }),
  ),
  publishTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      default: NORTH_DEFAULTS.publishTimeoutMs,
      description:
        "A publish not acknowledged within this many ms counts as failed: its readings go to the buffer (they may then arrive twice). Default 10000.",
    }),
  ),
};

/**
 * The core fields of a sink's config object, declared once: the same for every sink type, next
 * to the sink's own settings (its definition's `settingsSchema`). `type` is added per sink type
 * (a literal) by sink-schema.ts.
 */
export const CORE_SINK_PROPERTIES = common;

/** {@link CORE_SINK_FIELDS} (the SDK's list, which the kit checks definitions against) as a set. */
export const CORE_SINK_FIELDS_SET: ReadonlySet<string> = new Set(CORE_SINK_FIELDS);

/** The core fields of a north sink entry as loaded (defaults applied where the schema has them). */
export type CoreSinkConfig = Static<TObject<typeof common>> & { type: string };

/** A north sink entry of any type: the core fields and the sink's own settings. */
export type AnySinkConfig = CoreSinkConfig & Record<string, unknown>;

export type BufferConfig = Static<typeof BufferSchema>;
export { MQTT_BATCH_DEFAULTS } from "./mqtt-config.js";
export type {
  MqttBatchConfig,
  MqttFields,
  MqttSinkConfig,
  NatsSinkConfig,
  NorthConfig,
  SinkConfig,
  SparkplugSinkConfig,
} from "./sink-types.js";

/** Compiles `*`/`?` globs into one predicate; an empty list matches everything. */
export function globMatcher(globs: readonly string[] | undefined): (s: string) => boolean {
  if (!globs?.length) return () => true;
  const res = globs.map(
    (g) =>
      new RegExp(
        `^${g
          .split("")
          .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
          .join("")}$`,
        "s",
      ),
  );
  return (s) => res.some((r) => r.test(s));
}

/** Duplicate sink ids, which the config must refuse (ids name buffer files). */
export function duplicateSinkIds(sinks: readonly { id: string }[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const s of sinks) (seen.has(s.id) ? dup : seen).add(s.id);
  return [...dup];
}

/** Each repeated sink id (the second and later occurrences), as config errors. */
export function duplicateSinkErrors(
  sinks: readonly { id: string }[],
): { path: (string | number)[]; message: string }[] {
  const first = new Map<string, number>();
  const errors: { path: (string | number)[]; message: string }[] = [];
  sinks.forEach((s, i) => {
    const at = first.get(s.id);
    if (at === undefined) first.set(s.id, i);
    else
      errors.push({
        path: ["north", i, "id"],
        message: `duplicate sink id '${s.id}' (first at north[${at}])`,
      });
  });
  return errors;
}
