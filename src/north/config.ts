/**
 * Configuration of north sinks: the top-level `north:` array. Each sink has an `id`, a `type`
 * (mqtt, sparkplug, nats), a point selection, its transport options and its store-and-forward
 * buffer. Durations are integer milliseconds like the rest of the config.
 */
import Type, { type Static } from "typebox";
import { MqttLinkFields } from "../../protocols/mqtt/options.js";
import { BATCH_ENCODINGS, BATCH_GROUPINGS } from "./batcher.js";

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

/** Defaults of the MQTT sink's `batch` fields. */
export const MQTT_BATCH_DEFAULTS = {
  by: "device",
  maxReadings: 500,
  maxBytes: 131_072,
  lingerMs: 100,
  encoding: "readings",
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
          "Bound of the buffered readings in MiB (their JSON size; the file is somewhat larger). Beyond it the overflow policy applies. Default 256.",
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

/** MQTT connection fields shared by the mqtt and sparkplug sinks. */
const mqttConnection = {
  ...MqttLinkFields,
  clientId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: "MQTT client id; default tagbridge-{gateway}-{id}.",
    }),
  ),
};

const MqttFieldsSchema = Type.Object(mqttConnection);
/** The MQTT connection fields of the mqtt and sparkplug sinks. */
export type MqttFields = Static<typeof MqttFieldsSchema>;

/** How the MQTT sink batches (payload: batch). */
export const MqttBatchSchema = Type.Object(
  {
    by: Type.Optional(
      Type.Enum(BATCH_GROUPINGS, {
        default: MQTT_BATCH_DEFAULTS.by,
        description:
          "device (default): a batch holds Readings of one device, on a per-device topic. gateway: a batch holds Readings of any devices of the gateway, on one topic; fewest and largest messages at high rates.",
      }),
    ),
    topic: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Topic of a batch; {gateway} is filled in, and {device} when by: device. Default tagbridge/{gateway}/{device} (by: device) or tagbridge/{gateway}/batch (by: gateway).",
      }),
    ),
    maxReadings: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: MQTT_BATCH_DEFAULTS.maxReadings,
        description: "A batch is sent once it holds this many Readings. Default 500.",
      }),
    ),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 1_024,
        maximum: 268_435_455,
        default: MQTT_BATCH_DEFAULTS.maxBytes,
        description:
          "Most bytes of a batch's JSON array; a batch is sent before a Reading would take it past this (a single larger Reading goes alone). Keep it under the broker's message size limit. Default 131072 (128 KiB).",
      }),
    ),
    lingerMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 60_000,
        default: MQTT_BATCH_DEFAULTS.lingerMs,
        description:
          "Longest a Reading waits for its batch to fill, in ms: at low rates every Reading is published within this time, at high rates batches fill up to maxReadings/maxBytes first. 0: a batch is whatever arrived since the previous publish. Default 100.",
      }),
    ),
    encoding: Type.Optional(
      Type.Enum(BATCH_ENCODINGS, {
        default: MQTT_BATCH_DEFAULTS.encoding,
        description:
          "readings (default): a batch is a JSON array of Readings. compact: a compact Reading batch v1 (config/reading-batch.v1.schema.json), {v, gateway, columns, rows}: the gateway once and each Reading as an array of values in column order; about half the bytes and less CPU per reading. maxBytes applies to the encoded message.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Batching of payload: batch, by size and time. Backlog replayed from the buffer is batched the same way (without waiting).",
  },
);

/** MQTT unified-namespace JSON sink. */
export const MqttSinkSchema = Type.Object(
  {
    type: Type.Literal("mqtt", { description: "MQTT unified namespace, JSON payloads." }),
    ...common,
    ...mqttConnection,
    topic: Type.Optional(
      Type.String({
        minLength: 1,
        default: "tagbridge/{gateway}/{device}/{point}",
        description:
          "Topic of one reading (payload: reading); {gateway}, {device} and {point} are filled in ('/', '+', '#' in ids become '_').",
      }),
    ),
    payload: Type.Optional(
      Type.Enum(["batch", "reading"], {
        default: "batch",
        description:
          "batch (default): one message holds a JSON array of Readings, grouped and sized by `batch`. reading: one message per Reading on `topic`; cannot keep up with tens of thousands of readings/s.",
      }),
    ),
    batch: Type.Optional(MqttBatchSchema),
    qos: Type.Optional(
      Type.Enum(["0", "1"], {
        default: "1",
        description:
          "1 (default): at-least-once, each message acknowledged by the broker. 0: fire and forget; a message in the socket when the broker goes away is lost.",
      }),
    ),
    retain: Type.Optional(
      Type.Boolean({ default: false, description: "Publish data messages with the retain flag." }),
    ),
    statusTopic: Type.Optional(
      Type.String({
        minLength: 1,
        default: "tagbridge/{gateway}/status",
        description:
          "Retained gateway status topic: 'online' on connect, 'offline' on close and as the last will.",
      }),
    ),
  },
  { additionalProperties: false, description: "MQTT unified-namespace JSON sink." },
);

/** Sparkplug B 3.0 edge node sink. */
export const SparkplugSinkSchema = Type.Object(
  {
    type: Type.Literal("sparkplug", { description: "Sparkplug B 3.0 edge node." }),
    ...common,
    ...mqttConnection,
    groupId: Type.String({ pattern: "^[^/+#]+$", description: "Sparkplug group id." }),
    edgeNodeId: Type.Optional(
      Type.String({ pattern: "^[^/+#]+$", description: "Sparkplug edge node id; default the gateway id." }),
    ),
    primaryHostId: Type.Optional(
      Type.String({
        pattern: "^[^/+#]+$",
        description:
          "Primary host application id: when set, the edge node publishes only while spBv1.0/STATE/{id} says online (data is buffered meanwhile) and births again when it comes back.",
      }),
    ),
    qos: Type.Optional(
      Type.Enum(["0", "1"], {
        default: "0",
        description:
          "QoS of births and data: 0 (default, as Sparkplug specifies) or 1 (at-least-once to the broker). NDEATH is always QoS 1.",
      }),
    ),
  },
  { additionalProperties: false, description: "Sparkplug B 3.0 edge node sink." },
);

/** NATS JetStream sink. */
export const NatsSinkSchema = Type.Object(
  {
    type: Type.Literal("nats", { description: "NATS JetStream, JSON Readings." }),
    ...common,
    servers: Type.Array(Type.String({ pattern: "^(nats|tls)://" }), {
      minItems: 1,
      description: "NATS server URLs, e.g. [nats://nats-1:4222, nats://nats-2:4222].",
    }),
    username: Type.Optional(Type.String({ description: "User name." })),
    password: Type.Optional(Type.String({ description: "Password; use an env or file placeholder." })),
    token: Type.Optional(
      Type.String({ description: "Authentication token; use an env or file placeholder." }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        default: "tagbridge.{gateway}.{device}.{point}",
        description:
          "Subject of a reading; {gateway}, {device}, {point} are filled in ('.', '*', '>' and spaces in ids become '_').",
      }),
    ),
    stream: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(
            Type.String({
              pattern: "^[A-Za-z0-9_-]+$",
              default: "TAGBRIDGE",
              description: "JetStream stream the subjects belong to. Default TAGBRIDGE.",
            }),
          ),
          create: Type.Optional(
            Type.Enum(["if-missing", "never"], {
              default: "if-missing",
              description:
                "if-missing (default): create the stream (file storage, subjects tagbridge.{gateway}.>) when it does not exist. never: it must exist.",
            }),
          ),
          subjects: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), {
              description: "Subjects of a created stream; default the subject template's prefix plus '>'.",
            }),
          ),
          duplicateWindowMs: Type.Optional(
            Type.Integer({
              minimum: 1_000,
              default: 120_000,
              description: "De-duplication window of a created stream, in ms. Default 2 min.",
            }),
          ),
        },
        { additionalProperties: false, description: "JetStream stream." },
      ),
    ),
  },
  { additionalProperties: false, description: "NATS JetStream sink." },
);

/** One north sink. */
export const SinkConfigSchema = Type.Union([MqttSinkSchema, SparkplugSinkSchema, NatsSinkSchema], {
  description: "A north sink, by type: mqtt, sparkplug or nats.",
});

/** The top-level `north:` array. */
export const NorthConfigSchema = Type.Array(SinkConfigSchema, {
  description: "North sinks: where readings are published, each with a durable store-and-forward buffer.",
});

export type MqttSinkConfig = Static<typeof MqttSinkSchema>;
export type SparkplugSinkConfig = Static<typeof SparkplugSinkSchema>;
export type NatsSinkConfig = Static<typeof NatsSinkSchema>;
export type SinkConfig = Static<typeof SinkConfigSchema>;
export type NorthConfig = Static<typeof NorthConfigSchema>;
export type BufferConfig = Static<typeof BufferSchema>;
export type MqttBatchConfig = Static<typeof MqttBatchSchema>;

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
export function duplicateSinkIds(sinks: readonly SinkConfig[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const s of sinks) (seen.has(s.id) ? dup : seen).add(s.id);
  return [...dup];
}

/**
 * Config errors of the `north:` array that its schema cannot express: each repeated sink id (the
 * second and later occurrences), and a `{device}` or `{point}` in the topic of an MQTT sink
 * batching `by: gateway` (a batch then holds many devices).
 */
export function sinkIdErrors(sinks: readonly SinkConfig[]): { path: (string | number)[]; message: string }[] {
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
    if (s?.type === "mqtt" && s.batch?.by === "gateway" && /\{(device|point)\}/.test(s.batch.topic ?? ""))
      errors.push({
        path: ["north", i, "batch", "topic"],
        message: "a batch by: gateway holds readings of many devices: its topic can use {gateway} only",
      });
  });
  return errors;
}
