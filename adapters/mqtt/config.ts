/**
 * Settings of the MQTT adapter, declared once in TypeBox: the device's `connection` object and the
 * fields merged into each point. The README tables are written from these descriptions.
 */
import Type, { type Static } from "typebox";
import { MqttLinkFields, TlsSchema } from "../../protocols/mqtt/options.js";

export { TlsSchema };

/** A Sparkplug group, edge node or device id: one topic level, no MQTT wildcard (Sparkplug B 3.0). */
const SPARKPLUG_ID = "^[^/+#]+$";

/** Sparkplug B ingest: which edge node (or device of it) this gateway device is. */
export const SparkplugSchema = Type.Object(
  {
    groupId: Type.String({
      minLength: 1,
      pattern: SPARKPLUG_ID,
      description: "Sparkplug group id; the adapter subscribes to spBv1.0/{groupId}/+/{edgeNodeId}/#.",
    }),
    edgeNodeId: Type.String({
      minLength: 1,
      pattern: SPARKPLUG_ID,
      description: "Edge node id whose births, data and deaths are read.",
    }),
    deviceId: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: SPARKPLUG_ID,
        description: "Device id under the edge node; when absent the points are the edge node's own metrics.",
      }),
    ),
    rebirth: Type.Optional(
      Type.Enum(["request", "never"], {
        default: "request",
        description:
          "request (default): publish NCMD Node Control/Rebirth on a seq gap, an unknown alias or data before birth. never: only log and count.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "Makes the device a Sparkplug B edge node or device; points then name metrics.",
  },
);

/** The device's `connection` object. */
export const MqttConnectionSchema = Type.Object(
  {
    ...MqttLinkFields,
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: "MQTT client id; default tagbridge-{gateway}-{device}.",
      }),
    ),
    session: Type.Optional(
      Type.Enum(["clean", "persistent"], {
        default: "clean",
        description:
          "clean (default): start a fresh session on each connect. persistent: the broker keeps subscriptions and queues QoS 1/2 messages while the gateway is away (needs a fixed clientId).",
      }),
    ),
    sessionExpirySec: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 3600,
        description:
          "MQTT 5 persistent sessions: how long the broker keeps the session after a disconnect, in s.",
      }),
    ),
    qos: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2,
        default: 1,
        description: "QoS of the subscriptions (0, 1 or 2) and of commands.",
      }),
    ),
    vars: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          "Values for {name} levels of topic templates, e.g. {line: L1}; a name with a value becomes a fixed level, one without matches any level.",
      }),
    ),
    maxPayloadBytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 262144,
        description:
          "Largest payload read, in bytes; larger messages give bad/PayloadTooLarge samples and are counted.",
      }),
    ),
    maxTopicsPerPoint: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1000,
        description:
          "For points whose topic has wildcards: how many distinct topics one point follows; messages from further topics are dropped and counted.",
      }),
    ),
    sparkplug: Type.Optional(SparkplugSchema),
  },
  { additionalProperties: false, description: "MQTT broker connection, topics and Sparkplug B." },
);

/** The MQTT adapter's own point fields, merged flat with the core point fields. */
export const MqttPointSchema = Type.Object(
  {
    topic: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Topic or template the value arrives on: + and # wildcards and {name} levels allowed. Required unless the device is Sparkplug.",
      }),
    ),
    format: Type.Optional(
      Type.Enum(["json", "raw"], {
        default: "json",
        description:
          "json (default): the payload is JSON and `path` picks the value. raw: the whole payload is the value (number, true/false/1/0/on/off, text).",
      }),
    ),
    path: Type.Optional(
      Type.String({
        pattern: "^\\$",
        description:
          "JSONPath (jsonpath-plus) of the value in a JSON payload, e.g. $.temp or $.values[0]; $ when absent.",
      }),
    ),
    timestampPath: Type.Optional(
      Type.String({
        pattern: "^\\$",
        description: "JSONPath of the source timestamp: epoch ms or ISO 8601.",
      }),
    ),
    qualityPath: Type.Optional(
      Type.String({
        pattern: "^\\$",
        description: "JSONPath of a quality: good, uncertain, bad, or a boolean (true = good).",
      }),
    ),
    commandTopic: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Where a write is published; {point}, {device} and the template's {name}s (from vars or the last message) are filled in. Writes need access: readwrite.",
      }),
    ),
    commandFormat: Type.Optional(
      Type.Enum(["json", "raw"], {
        default: "json",
        description:
          'json (default): {"point", "value", "ts"}. raw: the value alone (strings as is, others as JSON).',
      }),
    ),
    metric: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Sparkplug devices: the metric name (e.g. Motor/RPM); the point id when absent.",
      }),
    ),
  },
  { additionalProperties: false, description: "MQTT point settings." },
);

/** Validated `connection` settings. */
export type MqttSettings = Static<typeof MqttConnectionSchema>;
/** The MQTT adapter's own point fields. */
export type MqttPointFields = Static<typeof MqttPointSchema>;
