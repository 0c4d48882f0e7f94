/**
 * The subscriber the sink conformance kit reads an MQTT broker through (mqtt and sparkplug sinks).
 * It keeps a persistent session (clean: false, QoS 1 subscription) on a broker with persistence,
 * so what the broker accepted while the subscriber was cut off by the kit's outages is queued for
 * it, kept across the restart, and delivered when it reconnects.
 *
 * The subscriber is one hop behind the broker, so `received()` first sends a marker to itself
 * through the broker and waits for it to come back, after everything the broker forwarded before
 * (Mosquitto forwards to one client in order): what it returns is what the broker had processed
 * when it was called. Both sinks' stop() wait for the PUBACK of a last message (the mqtt status,
 * the Sparkplug NDEATH), so by then the broker has processed everything they sent before it.
 */
import mqtt, { type MqttClient } from "mqtt";
import type { ReceivedReading } from "../../src/sdk/sink-conformance-rules.js";
import { until } from "../helpers/until.js";
import type { Broker } from "../peers/mqtt-broker.js";

/** The kit's view of a broker: what it delivered, and the outage controls. */
export interface KitSubscriber {
  /** Everything the broker had processed when called, decoded, in arrival order. */
  received(): Promise<readonly ReceivedReading[]>;
  /** Stops the broker (sessions and queued messages kept). */
  stopPeer(): Promise<void>;
  /** Starts it again and waits for the subscriber to be back (its queued messages follow). */
  startPeer(): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to `filter` on `broker` (started with `persistence: true`) and decodes each message with `decode`. */
export async function startKitSubscriber(
  broker: Broker,
  filter: string,
  decode: (topic: string, payload: Buffer) => ReceivedReading[],
): Promise<KitSubscriber> {
  const flush = `kit-flush-${process.pid}/`;
  const received: ReceivedReading[] = [];
  let flushes = 0;
  let flushed = 0;
  const client: MqttClient = mqtt.connect(broker.url, {
    clientId: `kit-subscriber-${process.pid}`,
    clean: false,
    reconnectPeriod: 100,
  });
  client.on("message", (topic, payload) => {
    if (topic.startsWith(flush)) flushed = Number(topic.slice(flush.length));
    else received.push(...decode(topic, payload));
  });
  await until("the subscriber connected", () => client.connected, 10_000);
  await client.subscribeAsync([filter, `${flush}#`], { qos: 1 });
  return {
    async received() {
      const marker = ++flushes;
      await client.publishAsync(`${flush}${marker}`, "", { qos: 1 });
      await until("the subscriber's marker back from the broker", () => flushed >= marker, 10_000);
      return received;
    },
    stopPeer: () => broker.stopBroker(),
    async startPeer() {
      await broker.startBroker();
      await until("the subscriber reconnected", () => client.connected, 10_000);
    },
    close: () => client.endAsync(true),
  };
}
