/**
 * Settings of the mqtt sink (the unified-namespace JSON sink) and the MQTT connection fields it
 * shares with the sparkplug sink; the core sink fields are in config.ts.
 */
import Type, { type Static } from "typebox";
import { MqttLinkFields } from "../../protocols/mqtt/options.js";
import type { ConfigProblem } from "../sdk/adapter.js";
import { BATCH_ENCODINGS, BATCH_GROUPINGS } from "./batcher.js";

/** Defaults of the MQTT sink's `batch` fields. */
export const MQTT_BATCH_DEFAULTS = {
  by: "device",
  maxReadings: 500,
  maxBytes: 131_072,
  lingerMs: 100,
  encoding: "readings",
} as const;

/** MQTT connection fields shared by the mqtt and sparkplug sinks. */
export const MQTT_CONNECTION_FIELDS = {
  ...MqttLinkFields,
  clientId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: "MQTT client id; default tagbridge-{gateway}-{id}.",
    }),
  ),
};

const MqttFieldsSchema = Type.Object(MQTT_CONNECTION_FIELDS);
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

/** The MQTT sink's own settings (besides the core sink fields). */
export const MqttSettingsSchema = Type.Object(
  {
    ...MQTT_CONNECTION_FIELDS,
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

export type MqttSettings = Static<typeof MqttSettingsSchema>;
export type MqttBatchConfig = Static<typeof MqttBatchSchema>;

/** What the schema cannot say: a batch by: gateway holds many devices, its topic cannot name one. */
export function mqttSettingsProblems(settings: MqttSettings): ConfigProblem[] {
  const b = settings.batch;
  if (b?.by === "gateway" && /\{(device|point)\}/.test(b.topic ?? ""))
    return [
      {
        path: ["batch", "topic"],
        message: "a batch by: gateway holds readings of many devices: its topic can use {gateway} only",
      },
    ];
  return [];
}
