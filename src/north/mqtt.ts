/**
 * The MQTT unified-namespace sink: Readings as JSON, one per message or in per-device batches,
 * QoS 0/1, optional retain, and a retained gateway status topic (`online` on connect, `offline`
 * on a clean close and as the last will).
 */
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { Reading } from "../schema/reading.js";
import type { MqttSinkConfig } from "./config.js";
import { connectMqtt, fillTemplate, mqttLevel, mqttOptions } from "./mqtt-connect.js";
import type { Transport } from "./sink.js";

/** Groups readings by device in first-seen order, in chunks of at most `max`. */
export function batchesByDevice(readings: readonly Reading[], max: number): Reading[][] {
  const byDevice = new Map<string, Reading[][]>();
  for (const r of readings) {
    let chunks = byDevice.get(r.device);
    if (!chunks) {
      chunks = [[]];
      byDevice.set(r.device, chunks);
    }
    let last = chunks[chunks.length - 1]!;
    if (last.length >= max) {
      last = [];
      chunks.push(last);
    }
    last.push(r);
  }
  return [...byDevice.values()].flat();
}

/** Creates the transport; nothing connects before `start()`. */
export function mqttTransport(config: MqttSinkConfig, gateway: string, log: Logger): Transport {
  const qos = config.qos === "0" ? 0 : 1;
  const retain = config.retain ?? false;
  const topicOf = config.topic ?? "tagbridge/{gateway}/{device}/{point}";
  const batchTopicOf = config.batchTopic ?? "tagbridge/{gateway}/{device}";
  const max = config.batchMaxReadings ?? 500;
  const perReading = config.payload === "reading";
  const statusTopic = fillTemplate(
    config.statusTopic ?? "tagbridge/{gateway}/status",
    { gateway },
    mqttLevel,
  );
  let client: MqttClient | undefined;
  let up = false;
  let closed = false;
  let lastError: string | undefined;
  let onChange = () => {};

  const send = (topic: string, payload: string, retainIt = retain) =>
    client!.publishAsync(topic, payload, { qos, retain: retainIt });

  return {
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
      if (!client || !up || !client.connected) throw new Error("MQTT sink not connected");
      const sends: Promise<unknown>[] = [];
      if (perReading) {
        for (const r of readings)
          sends.push(
            send(
              fillTemplate(topicOf, { gateway, device: r.device, point: r.point }, mqttLevel),
              JSON.stringify(r),
            ),
          );
      } else {
        for (const chunk of batchesByDevice(readings, max)) {
          const topic = fillTemplate(batchTopicOf, { gateway, device: chunk[0]!.device }, mqttLevel);
          sends.push(send(topic, JSON.stringify(chunk)));
        }
      }
      await Promise.all(sends);
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
