/**
 * The sink conformance kit (tagbridge/sdk/testing) run for the built-in mqtt sink against a real
 * Mosquitto (test/peers/mqtt-broker.ts), twice: one JSON message per reading (payload: reading)
 * and JSON arrays of readings (payload: batch, the default). One subscriber reads what the broker
 * delivers; it keeps a persistent session (clean: false, QoS 1 subscription) on a broker with
 * persistence, so what the broker accepted while the subscriber was cut off by the kit's outages
 * is queued for it, kept across the restart, and delivered when it reconnects.
 */
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, it } from "vitest";
import { mqttSink } from "../../src/north/mqtt.js";
import type { Reading } from "../../src/schema/reading.js";
import { sinkConformance } from "../../src/sdk/sink-conformance.js";
import { decodeBatchPayload, type ReceivedReading } from "../../src/sdk/sink-conformance-rules.js";
import { until } from "../helpers/until.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";

// Started while the file is collected: the kit reads the settings when it builds the checks (the
// sink's capabilities depend on them: ack with qos 1, batch with payload: batch).
const broker: Broker = await startBroker({ persistence: true });
let subscriber: MqttClient;
const received: ReceivedReading[] = [];

/**
 * What the broker has processed so far, as the subscriber received it. The subscriber is one hop
 * behind the broker: it sends itself a marker through the broker and waits for it to come back,
 * after everything the broker forwarded before (Mosquitto forwards to one client in order). The
 * mqtt sink's stop() waits for the PUBACK of its offline status, so by then the broker has
 * processed all the sink sent before it; the marker makes the subscriber see that too.
 */
const FLUSH = `kit-flush-${process.pid}/`;
let flushes = 0;
let flushed = 0;
async function receivedSoFar(): Promise<readonly ReceivedReading[]> {
  const marker = ++flushes;
  await subscriber.publishAsync(`${FLUSH}${marker}`, "", { qos: 1 });
  await until("the subscriber's marker back from the broker", () => flushed >= marker, 10_000);
  return received;
}

/** The readings in one message: a Reading, a batch (JSON array or compact batch), or none (status). */
function decode(payload: Buffer): Reading[] {
  if (payload[0] !== 0x7b && payload[0] !== 0x5b) return []; // the status topic's online/offline
  const parsed = JSON.parse(payload.toString()) as unknown;
  if (Array.isArray(parsed) || (parsed as { columns?: unknown }).columns !== undefined)
    return decodeBatchPayload(payload);
  return [parsed as Reading];
}

beforeAll(async () => {
  subscriber = mqtt.connect(broker.url, {
    clientId: `kit-subscriber-${process.pid}`,
    clean: false,
    reconnectPeriod: 100,
  });
  subscriber.on("message", (topic, payload) => {
    if (topic.startsWith(FLUSH)) flushed = Number(topic.slice(FLUSH.length));
    else for (const reading of decode(payload)) received.push({ reading, historical: false });
  });
  await until("the subscriber connected", () => subscriber.connected, 10_000);
  await subscriber.subscribeAsync(["tagbridge/#", `${FLUSH}#`], { qos: 1 });
});
afterAll(async () => {
  await subscriber?.endAsync(true);
  await broker.stop();
});

/** The fixture of one variant of the sink's settings. */
const fixture = (settings: () => object) => ({
  get settings() {
    return { url: broker.url, reconnectPeriodMs: 200, ...settings() };
  },
  received: receivedSoFar,
  stopPeer: () => broker.stopBroker(),
  startPeer: async () => {
    await broker.startBroker();
    // Whatever the broker queued for the subscriber comes with its reconnection.
    await until("the subscriber reconnected", () => subscriber.connected, 10_000);
  },
});

describe("mqtt sink: conformance, payload: reading (real Mosquitto)", () => {
  for (const check of sinkConformance(
    mqttSink,
    fixture(() => ({ payload: "reading" })),
  ))
    it(check.name, check.run, 30_000);
});

describe("mqtt sink: conformance, payload: batch (real Mosquitto)", () => {
  for (const check of sinkConformance(
    mqttSink,
    fixture(() => ({ payload: "batch", batch: { maxReadings: 20, lingerMs: 0 } })),
  ))
    it(check.name, check.run, 30_000);
});

describe("mqtt sink: conformance, payload: batch by gateway, compact, qos 0 (real Mosquitto)", () => {
  for (const check of sinkConformance(
    mqttSink,
    fixture(() => ({ qos: "0", batch: { by: "gateway", encoding: "compact", lingerMs: 0 } })),
  ))
    it(check.name, check.run, 30_000);
});
