/**
 * The sink conformance kit (tagbridge/sdk/testing) run for the built-in sparkplug sink against a
 * real Mosquitto with persistence, its messages decoded by Eclipse Tahu's JS library
 * (sparkplug-payload) as the independent decoder, read by one persistent subscriber
 * (conformance-subscriber.ts). Twice: QoS 1 (ack and replay) and QoS 0, the Sparkplug default
 * (replay only).
 *
 * Every DBIRTH and DDATA metric of a device is a received reading: point = metric name (through
 * the DBIRTH's aliases for DDATA), quality from the `Quality` property, historical from
 * `is_historical`. A birth carries a metric's value too (the sink sends a new point's first
 * reading in the DBIRTH and not again in DDATA: report by exception). What Sparkplug does not
 * carry is recovered as far as it can be: the gateway's seq from the metric timestamp (`kitSeqOf`:
 * the kit's readings carry their seq in `ts`; Sparkplug's own seq numbers messages), and arrays,
 * published as JSON text in a String metric, parsed back.
 */
import sparkplug from "sparkplug-payload";
import type { UMetric } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { afterAll, beforeAll, describe, it } from "vitest";
import { bufferedReplayCheck } from "../../src/north/sink-harness.js";
import { sparkplugSink } from "../../src/north/sparkplug.js";
import type { Reading } from "../../src/schema/reading.js";
import { sinkConformance } from "../../src/sdk/sink-conformance.js";
import { kitSeqOf, type ReceivedReading } from "../../src/sdk/sink-conformance-rules.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { type KitSubscriber, startKitSubscriber } from "./conformance-subscriber.js";

const tahu = sparkplug.get("spBv1.0")!;
const GROUP = `kit${process.pid}`;

// Started while the file is collected: the kit reads the settings when it builds the checks (ack
// depends on qos).
const broker: Broker = await startBroker({ persistence: true });
let subscriber: KitSubscriber;

const QUALITIES: Record<number, Reading["quality"]> = { 192: "good", 64: "uncertain", 0: "bad" };
/** Metric names by device and alias, from each DBIRTH. */
const names = new Map<string, string>();
const num = (v: unknown) => Number(String(v));

function metricValue(m: UMetric): Reading["value"] {
  const v = m.value;
  if (m.isNull || v === null || v === undefined) return null;
  if (typeof v === "object" && "low" in v) {
    // A Long (Int64/UInt64): a number where exact, otherwise the decimal string, as in a Reading.
    const n = Number(v.toString());
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if (m.type === "String" && typeof v === "string" && v.startsWith("[")) return JSON.parse(v) as number[];
  if (typeof v === "object") return null; // no other object type is published
  return v as Reading["value"];
}

function decode(topic: string, payload: Buffer): ReceivedReading[] {
  const [, , type, , device] = topic.split("/");
  if ((type !== "DBIRTH" && type !== "DDATA") || device === undefined) return [];
  const out: ReceivedReading[] = [];
  for (const m of tahu.decodePayload(payload).metrics ?? []) {
    const key = `${device}\u0000${num(m.alias)}`;
    const name = typeof m.name === "string" ? m.name : undefined;
    if (type === "DBIRTH" && name !== undefined && m.alias != null) names.set(key, name);
    const point = name ?? names.get(key);
    if (point === undefined || m.timestamp == null) continue;
    const quality =
      QUALITIES[num((m.properties as { Quality?: { value: unknown } } | undefined)?.Quality?.value)];
    if (quality === undefined) continue;
    out.push({
      reading: { device, point, seq: kitSeqOf(num(m.timestamp)), value: metricValue(m), quality },
      historical: m.isHistorical === true,
    });
  }
  return out;
}

beforeAll(async () => {
  subscriber = await startKitSubscriber(broker, `spBv1.0/${GROUP}/#`, decode);
});
afterAll(async () => {
  await subscriber?.close();
  await broker.stop();
});

const fixture = (qos: "0" | "1") => ({
  // A new metric's first value rides in its DBIRTH, ahead of the DDATA of other metrics before it.
  ordering: "point" as const,
  get settings() {
    return { url: broker.url, reconnectPeriodMs: 200, groupId: GROUP, qos };
  },
  received: () => subscriber.received(),
  stopPeer: () => subscriber.stopPeer(),
  startPeer: () => subscriber.startPeer(),
});

describe("sparkplug sink: conformance, qos 1 (real Mosquitto, Tahu decoder)", () => {
  const f = fixture("1");
  for (const check of [...sinkConformance(sparkplugSink, f), bufferedReplayCheck(sparkplugSink, f)])
    it(check.name, check.run, 30_000);
});

describe("sparkplug sink: conformance, qos 0 (real Mosquitto, Tahu decoder)", () => {
  const f = fixture("0");
  for (const check of [...sinkConformance(sparkplugSink, f), bufferedReplayCheck(sparkplugSink, f)])
    it(check.name, check.run, 30_000);
});
