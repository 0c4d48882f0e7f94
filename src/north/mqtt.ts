/**
 * The MQTT unified-namespace sink: Readings as JSON, one per message or in batches (JSON arrays of
 * Readings, or compact Reading batches with `batch.encoding: compact`; per device or for the whole
 * gateway, closed by size or after `lingerMs`; see batcher.ts), QoS
 * 0/1, optional retain, and a retained gateway status topic (`online` on connect, `offline` on a
 * clean close and as the last will).
 */
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { readingJsonWriter } from "../schema/reading-json.js";
import { type Batch, type BatchPolicy, splitBatches } from "./batcher.js";
import { MQTT_BATCH_DEFAULTS, type MqttSinkConfig } from "./config.js";
import { connectMqtt, fillTemplate, mqttLevel, mqttOptions } from "./mqtt-connect.js";
import type { Transport } from "./sink.js";

/** Most one-reading messages in flight at once (payload: reading). */
const PER_READING_IN_FLIGHT = 256;

/** The batch policy and topic template of a sink with payload: batch. */
export function mqttBatching(config: MqttSinkConfig): { policy: BatchPolicy; topic: string } {
  const b = config.batch ?? {};
  const by = b.by ?? MQTT_BATCH_DEFAULTS.by;
  return {
    policy: {
      by,
      maxReadings: b.maxReadings ?? MQTT_BATCH_DEFAULTS.maxReadings,
      maxBytes: b.maxBytes ?? MQTT_BATCH_DEFAULTS.maxBytes,
      lingerMs: b.lingerMs ?? MQTT_BATCH_DEFAULTS.lingerMs,
      encoding: b.encoding ?? MQTT_BATCH_DEFAULTS.encoding,
    },
    topic: b.topic ?? (by === "device" ? "tagbridge/{gateway}/{device}" : "tagbridge/{gateway}/batch"),
  };
}

/** Creates the transport; nothing connects before `start()`. */
export function mqttTransport(config: MqttSinkConfig, gateway: string, log: Logger): Transport {
  const qos = config.qos === "0" ? 0 : 1;
  const retain = config.retain ?? false;
  const topicOf = config.topic ?? "tagbridge/{gateway}/{device}/{point}";
  const perReading = config.payload === "reading";
  const { policy, topic: batchTopicOf } = mqttBatching(config);
  const gatewayTopic = fillTemplate(batchTopicOf, { gateway }, mqttLevel);
  const deviceTopics = new Map<string, string>();
  const batchTopic = (b: Batch): string => {
    if (policy.by === "gateway") return gatewayTopic;
    let t = deviceTopics.get(b.key);
    if (t === undefined) {
      t = fillTemplate(batchTopicOf, { gateway, device: b.key }, mqttLevel);
      if (deviceTopics.size < 100_000) deviceTopics.set(b.key, t);
    }
    return t;
  };
  const statusTopic = fillTemplate(
    config.statusTopic ?? "tagbridge/{gateway}/status",
    { gateway },
    mqttLevel,
  );
  let client: MqttClient | undefined;
  /** Writes each Reading's JSON (one message per reading). */
  const json = readingJsonWriter();
  let up = false;
  let closed = false;
  let lastError: string | undefined;
  let onChange = () => {};

  const send = (topic: string, payload: string | Buffer, retainIt = retain) =>
    client!.publishAsync(topic, payload, { qos, retain: retainIt });

  /** One message per batch, all in flight at once (one connection keeps them in order). */
  const publishBatches = async (batches: readonly Batch[]): Promise<void> => {
    if (!client || !up || !client.connected) throw new Error("MQTT sink not connected");
    if (batches.length === 1) {
      await send(batchTopic(batches[0]!), batches[0]!.payload);
      return;
    }
    await Promise.all(batches.map((b) => send(batchTopic(b), b.payload)));
  };

  return {
    ...(perReading
      ? {}
      : {
          batching: {
            policy,
            publish: publishBatches,
            // The socket's queue empty: every payload written so far reached the kernel. (QoS 0
            // publishes resolve once queued; acknowledged QoS 1 ones have left the client's store.)
            released: () => client?.stream !== undefined && client.stream.writableLength === 0,
          },
        }),
    get up() {
      return up;
    },
    get lastError() {
      return lastError;
    },
    onChange(handler) {
      onChange = handler;
    },

    async start() {
      const will = { topic: statusTopic, payload: Buffer.from("offline"), qos: 1 as const, retain: true };
      const options = await mqttOptions(config, `tagbridge-${gateway}-${config.id}`, will, log);
      client = connectMqtt(config.url, options, log, {
        onUp: () => {
          client!
            .publishAsync(statusTopic, "online", { qos: 1, retain: true })
            .catch((e: Error) => log.warn({ err: e.message }, "north MQTT status publish failed"));
          lastError = undefined;
          up = true;
          log.info({ sink: config.id, url: config.url }, "north MQTT sink connected");
          onChange();
        },
        onDown: (reason) => {
          if (up) log.warn({ sink: config.id, reason }, "north MQTT sink disconnected");
          lastError = reason;
          up = false;
          onChange();
        },
      });
    },

    async publish(readings) {
      if (perReading) {
        if (!client || !up || !client.connected) throw new Error("MQTT sink not connected");
        // A slice at a time: a publish waiting for the socket to drain holds a listener on it, and
        // thousands at once (a backlog, an overload) would trip Node's listener-leak warning.
        for (let i = 0; i < readings.length; i += PER_READING_IN_FLIGHT) {
          const sends: Promise<unknown>[] = [];
          const end = Math.min(readings.length, i + PER_READING_IN_FLIGHT);
          for (let k = i; k < end; k++) {
            const r = readings[k]!;
            sends.push(
              send(
                fillTemplate(topicOf, { gateway, device: r.device, point: r.point }, mqttLevel),
                json.toBuffer(r),
              ),
            );
          }
          await Promise.all(sends);
        }
      } else await publishBatches(splitBatches(readings, policy));
    },

    async close() {
      if (closed) return;
      closed = true;
      up = false;
      const c = client;
      if (!c) return;
      if (c.connected) {
        await Promise.race([
          c.publishAsync(statusTopic, "offline", { qos: 1, retain: true }).catch(() => undefined),
          new Promise((r) => setTimeout(r, 1_000)),
        ]);
      }
      await c.endAsync(true);
    },
  };
}
