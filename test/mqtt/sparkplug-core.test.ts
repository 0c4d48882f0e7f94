/**
 * Sparkplug B ingest through the core (Gateway, report by exception) against Mosquitto, with
 * payloads encoded by Eclipse Tahu's sparkplug-payload: the reading's address is the documented
 * one and the same for births, data and deaths, so the core's per-address report by exception
 * never swallows a death (after NBIRTH, DBIRTH, DDEATH, DBIRTH, an NDEATH used to publish nothing).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import sparkplug from "sparkplug-payload";
import type { UMetric } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import mqttAdapter from "../../adapters/mqtt/index.js";
import { BUILTIN_ADAPTERS } from "../../src/core/builtin-adapters.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import type { AdapterDefinition } from "../../src/sdk/adapter.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { until } from "./helpers.js";

const tahu = sparkplug.get("spBv1.0")!;
let broker: Broker;
let node: MqttClient;
let gateway: Gateway;
let dataDir: string;
const got: Reading[] = [];

// An upper-case group id: the old address code mistook it for the message type level.
const G = "G";
beforeAll(async () => {
  broker = await startBroker();
  node = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  dataDir = mkdtempSync(join(tmpdir(), "tb-mqtt-spb-core-"));
  const device = (id: string, deviceId?: string, points: unknown[] = []) => ({
    id,
    type: "mqtt",
    connection: {
      url: broker.url,
      sparkplug: { groupId: G, edgeNodeId: "E1", ...(deviceId ? { deviceId } : {}), rebirth: "never" },
    },
    points,
  });
  gateway = new Gateway({
    id: "gw",
    dataDir,
    devices: [
      device("d1", "D1", [{ id: "speed", type: "float64", metric: "Speed" }]),
      device("node", undefined, [{ id: "uptime", type: "int64", metric: "Node/Uptime" }]),
    ] as never,
    registry: new AdapterRegistry([...BUILTIN_ADAPTERS, mqttAdapter as unknown as AdapterDefinition]),
    log: pino({ level: "silent" }),
  });
  gateway.bus.subscribe({ name: "t", handle: (b) => void got.push(...b) });
  gateway.start();
  await until(() => gateway.devices().every((d) => d.state === "connected"), "devices connected");
});
afterAll(async () => {
  await gateway?.stop();
  await node?.endAsync(true);
  await broker?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
const send = async (type: string, device: string | undefined, metrics: UMetric[]) => {
  const t = `spBv1.0/${G}/${type}/E1${device ? `/${device}` : ""}`;
  if (type === "NBIRTH") seq = 0;
  const payload = tahu.encodePayload({
    timestamp: Date.now(),
    ...(type === "NDEATH" ? {} : { seq: seq++ % 256 }),
    metrics,
  });
  await node.publishAsync(t, Buffer.from(payload), { qos: 1 });
};
const speed = (value: number): UMetric => ({ name: "Speed", alias: 1, type: "Double", value });
const bdSeq = (value: number): UMetric => ({ name: "bdSeq", type: "Int64", value });
const last = (point: string) => got.findLast((r) => r.point === point);
const count = (point: string, status: string) =>
  got.filter((r) => r.point === point && r.status === status).length;

it("the address is spBv1.0/{group}/{edgeNode}/{device}:{metric} for births, data and deaths; NDEATH after DDEATH+DBIRTH publishes bad", async () => {
  await send("NBIRTH", undefined, [bdSeq(3), { name: "Node/Uptime", alias: 9, type: "Int64", value: 5 }]);
  await send("DBIRTH", "D1", [speed(1)]);
  await until(() => last("speed")?.value === 1 && last("uptime")?.value === 5, "births");
  await send("DDATA", "D1", [{ alias: 1, type: "Double", value: 2 }]);
  await until(() => last("speed")?.value === 2, "data");
  await send("DDEATH", "D1", []);
  await until(() => last("speed")?.status === "Disconnected", "DDEATH");
  await send("DBIRTH", "D1", [speed(3)]);
  await until(() => last("speed")?.value === 3, "DBIRTH again");
  await send("NDEATH", undefined, [bdSeq(3)]);
  await until(
    () => last("speed")?.status === "Disconnected" && last("uptime")?.status === "Disconnected",
    "NDEATH",
  );
  expect(count("speed", "Disconnected")).toBe(2);
  expect(last("speed")).toMatchObject({ quality: "bad", value: null });
  const addresses = (point: string) => new Set(got.filter((r) => r.point === point).map((r) => r.address));
  expect(addresses("speed")).toEqual(new Set([`spBv1.0/${G}/E1/D1:Speed`]));
  expect(addresses("uptime")).toEqual(new Set([`spBv1.0/${G}/E1:Node/Uptime`]));
});

it("an NDEATH whose bdSeq is not the NBIRTH's (an older session's will) changes nothing", async () => {
  await send("NBIRTH", undefined, [bdSeq(4), { name: "Node/Uptime", alias: 9, type: "Int64", value: 6 }]);
  await send("DBIRTH", "D1", [speed(4)]);
  await until(() => last("speed")?.value === 4 && last("uptime")?.value === 6, "births");
  await send("NDEATH", undefined, [bdSeq(3)]);
  // The stale death is ignored; the next data of the live session arrives after it, in order.
  await send("DDATA", "D1", [{ alias: 1, type: "Double", value: 5 }]);
  await until(() => last("speed")?.value === 5, "data after the stale NDEATH");
  expect(count("speed", "Disconnected")).toBe(2); // the two of the first test, none more
  expect(last("uptime")).toMatchObject({ quality: "good", value: 6 });
  await send("NDEATH", undefined, [bdSeq(4)]);
  await until(() => last("speed")?.status === "Disconnected", "the matching NDEATH");
});
