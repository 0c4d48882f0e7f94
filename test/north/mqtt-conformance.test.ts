/**
 * The sink conformance kit (tagbridge/sdk/testing) run for the built-in mqtt sink against a real
 * Mosquitto with persistence (test/peers/mqtt-broker.ts), in three variants: one JSON message per
 * reading (payload: reading), JSON arrays of readings per device (payload: batch, the default),
 * and compact batches of the whole gateway at QoS 0 (no ack). What the broker delivers is read by
 * one persistent subscriber (conformance-subscriber.ts).
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { mqttSink } from "../../src/north/mqtt.js";
import { bufferedReplayCheck } from "../../src/north/sink-harness.js";
import type { Reading } from "../../src/schema/reading.js";
import { sinkConformance } from "../../src/sdk/sink-conformance.js";
import { decodeBatchPayload, type ReceivedReading } from "../../src/sdk/sink-conformance-rules.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { type KitSubscriber, startKitSubscriber } from "./conformance-subscriber.js";

// Started while the file is collected: the kit reads the settings when it builds the checks (the
// sink's capabilities depend on them: ack with qos 1, batch with payload: batch).
const broker: Broker = await startBroker({ persistence: true });
let subscriber: KitSubscriber;

/** The readings in one message: a Reading, a batch (JSON array or compact batch), or none (status). */
function decode(_topic: string, payload: Buffer): ReceivedReading[] {
  if (payload[0] !== 0x7b && payload[0] !== 0x5b) return []; // the status topic's online/offline
  const parsed = JSON.parse(payload.toString()) as unknown;
  const readings =
    Array.isArray(parsed) || (parsed as { columns?: unknown }).columns !== undefined
      ? decodeBatchPayload(payload)
      : [parsed as Reading];
  return readings.map((reading) => ({ reading, historical: false }));
}

beforeAll(async () => {
  subscriber = await startKitSubscriber(broker, "tagbridge/#", decode);
});
afterAll(async () => {
  await subscriber?.close();
  await broker.stop();
});

/** The fixture of one variant of the sink's settings. */
const fixture = (settings: () => object) => ({
  get settings() {
    return { url: broker.url, reconnectPeriodMs: 200, ...settings() };
  },
  received: () => subscriber.received(),
  stopPeer: () => subscriber.stopPeer(),
  startPeer: () => subscriber.startPeer(),
});

describe("mqtt sink: conformance, payload: reading (real Mosquitto)", () => {
  const f = fixture(() => ({ payload: "reading" }));
  for (const check of [...sinkConformance(mqttSink, f), bufferedReplayCheck(mqttSink, f)])
    it(check.name, check.run, 30_000);
});

describe("mqtt sink: conformance, payload: batch (real Mosquitto)", () => {
  const f = fixture(() => ({ payload: "batch", batch: { maxReadings: 20, lingerMs: 0 } }));
  for (const check of [...sinkConformance(mqttSink, f), bufferedReplayCheck(mqttSink, f)])
    it(check.name, check.run, 30_000);
});

describe("mqtt sink: conformance, payload: batch by gateway, compact, qos 0 (real Mosquitto)", () => {
  const f = fixture(() => ({ qos: "0", batch: { by: "gateway", encoding: "compact", lingerMs: 0 } }));
  for (const check of [...sinkConformance(mqttSink, f), bufferedReplayCheck(mqttSink, f)])
    it(check.name, check.run, 30_000);
});
