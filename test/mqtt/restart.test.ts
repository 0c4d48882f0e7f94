/**
 * Broker outages through the core: Mosquitto is killed by PID and started again on the same port,
 * five times in a row. During each outage the device is `disconnected` with a reason and every point
 * reads bad/Disconnected (on the bus and in the latest-value cache); after each, the device is
 * `connected`, its reconnects are counted, and the next messages, even with the value of before the
 * outage, make the points good again: JSON points with new messages, with retained ones, and a
 * Sparkplug B device whose edge node births again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
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
import { mosquittoPub, until } from "./helpers.js";

let broker: Broker;
let gateway: Gateway;
let dataDir: string;
const got: Reading[] = [];

beforeAll(async () => {
  broker = await startBroker();
  dataDir = mkdtempSync(join(tmpdir(), "tb-mqtt-restart-"));
  gateway = new Gateway({
    id: "gw",
    dataDir,
    devices: [
      {
        id: "dev",
        type: "mqtt",
        connection: { url: broker.url, reconnectPeriodMs: 200 },
        // Default publish (report by exception): recovery must not wait for a new value.
        points: [
          { id: "temp", type: "float64", topic: "plant/oven/state", path: "$.temp", timestampPath: "$.ts" },
          { id: "level", type: "float64", topic: "plant/tank/level", format: "raw" },
        ],
      },
    ] as never,
    registry: new AdapterRegistry([...BUILTIN_ADAPTERS, mqttAdapter as unknown as AdapterDefinition]),
    log: pino({ level: "silent" }),
  });
  gateway.bus.subscribe({ name: "t", handle: (b) => void got.push(...b) });
  gateway.start();
  await until(() => gateway.device("dev")?.state === "connected", "connected");
});
afterAll(async () => {
  await gateway?.stop();
  await broker?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const last = (point: string) => got.findLast((r) => r.point === point);
const cached = (point: string) => gateway.points("dev")?.find((p) => p.id === point)?.latest;
const isDisconnected = (r: Reading | undefined) => r?.quality === "bad" && r.status === "Disconnected";
const publishBoth = async () => {
  await mosquittoPub(broker.url, "plant/oven/state", JSON.stringify({ temp: 180 })); // no ts: receipt time
  await mosquittoPub(broker.url, "plant/tank/level", "2.5");
};

it("five broker restarts in a row: bad/Disconnected during each outage, good after each", async () => {
  await publishBoth();
  await until(() => last("temp")?.quality === "good" && last("level")?.quality === "good", "first values");
  expect(last("temp")).toMatchObject({ value: 180 });
  // timestampPath $.ts, and the payload has no ts: the time of receipt.
  expect(last("temp")!.ts).toBe(last("temp")!.receivedAt);
  const reconnects0 = gateway.device("dev")!.counters.reconnects;
  for (let outage = 1; outage <= 5; outage++) {
    const seenBefore = got.length;
    // The outage lasts 1.5 s; the checks below run while the broker is down.
    const restarted = broker.restart(1_500);
    await until(
      () =>
        gateway.device("dev")?.state === "disconnected" &&
        isDisconnected(last("temp")) &&
        isDisconnected(last("level")),
      `outage ${outage}: bad/Disconnected`,
      1_400,
    );
    expect(gateway.device("dev")!.stateReason).toMatch(/lost/);
    expect(isDisconnected(cached("temp")) && isDisconnected(cached("level"))).toBe(true);
    await restarted;
    // Back on the broker: reconnected and counted. Until a message arrives the core shows the device
    // `degraded` (its points still bad/Disconnected: nothing says their value yet).
    await until(
      () => gateway.device("dev")!.counters.reconnects === reconnects0 + outage,
      `outage ${outage}: reconnected`,
      8_000,
    );
    expect(gateway.device("dev")!.state).not.toBe("disconnected");
    expect(gateway.device("dev")!.counters.reconnects).toBe(reconnects0 + outage);
    // The same values as before the outage: the points must be good again all the same.
    await publishBoth();
    await until(
      () => last("temp")?.quality === "good" && last("level")?.quality === "good",
      `outage ${outage}: good again`,
    );
    await until(() => gateway.device("dev")?.state === "connected", `outage ${outage}: connected`);
    expect(cached("temp")).toMatchObject({ quality: "good", value: 180 });
    expect(cached("level")).toMatchObject({ quality: "good", value: 2.5 });
    const during = got
      .slice(seenBefore)
      .filter((r) => r.point === "temp")
      .map((r) => `${r.quality}/${r.status ?? ""}`);
    // Connected again but no message yet: no longer Disconnected, not known either.
    expect(during).toEqual(["bad/Disconnected", "uncertain/WaitingForData", "good/"]);
  }
}, 90_000);

it("retained messages: after each of five restarts the points are good again without a new message", async () => {
  const own = await startBroker({ persistence: true }); // keeps retained messages across restarts
  const dir = mkdtempSync(join(tmpdir(), "tb-mqtt-retained-"));
  const gw = new Gateway({
    id: "gw",
    dataDir: dir,
    devices: [
      {
        id: "ret",
        type: "mqtt",
        connection: { url: own.url, reconnectPeriodMs: 200 },
        points: [
          { id: "mode", type: "string", topic: "plant/line/mode", path: "$.mode", qualityPath: "$.q" },
        ],
      },
    ] as never,
    registry: new AdapterRegistry([...BUILTIN_ADAPTERS, mqttAdapter as unknown as AdapterDefinition]),
    log: pino({ level: "silent" }),
  });
  const seen: Reading[] = [];
  gw.bus.subscribe({ name: "t", handle: (b) => void seen.push(...b) });
  const mode = () => seen.findLast((r) => r.point === "mode");
  try {
    await mosquittoPub(own.url, "plant/line/mode", JSON.stringify({ mode: "auto" }), ["-r"]);
    gw.start();
    await until(() => mode()?.quality === "good", "retained value");
    for (let outage = 1; outage <= 5; outage++) {
      const restarted = own.restart(1_500);
      await until(
        () => gw.device("ret")?.state === "disconnected" && isDisconnected(mode()),
        `outage ${outage}: bad/Disconnected`,
        1_400,
      );
      await restarted;
      await until(
        () => gw.device("ret")?.state === "connected" && mode()?.quality === "good",
        `outage ${outage}: good again from the retained message`,
        8_000,
      );
      expect(mode()).toMatchObject({ value: "auto", quality: "good" });
    }
  } finally {
    await gw.stop();
    await own.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);

it("Sparkplug: five broker restarts; bad/Disconnected during each, good again after the node's births or data", async () => {
  const own = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), "tb-mqtt-spb-restart-"));
  // A Sparkplug edge node E1 with device D1 in group G: it births on every (re)connect, as an edge
  // node starts a new session then, and births again when asked by a Rebirth NCMD.
  const tahu = sparkplug.get("spBv1.0")!;
  const node = await mqtt.connectAsync(own.url, { reconnectPeriod: 100 });
  let seq = 0;
  let bdSeq = 0;
  const pub = (type: string, device: string | undefined, metrics: UMetric[]) =>
    node
      .publishAsync(
        `spBv1.0/G/${type}/E1${device ? `/${device}` : ""}`,
        Buffer.from(tahu.encodePayload({ timestamp: Date.now(), seq: seq++ % 256, metrics })),
        { qos: 1 },
      )
      .catch(() => undefined);
  const births = async () => {
    seq = 0;
    await pub("NBIRTH", undefined, [{ name: "bdSeq", type: "Int64", value: bdSeq }]);
    await pub("DBIRTH", "D1", [{ name: "Speed", alias: 1, type: "Double", value: 42 }]);
  };
  node.on("connect", () => {
    bdSeq++;
    void node.subscribeAsync("spBv1.0/G/NCMD/E1", { qos: 1 }).then(births, () => undefined);
  });
  node.on("message", () => void births()); // the only NCMD is Node Control/Rebirth
  await node.subscribeAsync("spBv1.0/G/NCMD/E1", { qos: 1 });
  const gw = new Gateway({
    id: "gw",
    dataDir: dir,
    devices: [
      {
        id: "d1",
        type: "mqtt",
        connection: {
          url: own.url,
          reconnectPeriodMs: 200,
          sparkplug: { groupId: "G", edgeNodeId: "E1", deviceId: "D1" },
        },
        points: [{ id: "speed", type: "float64", metric: "Speed" }],
      },
    ] as never,
    registry: new AdapterRegistry([...BUILTIN_ADAPTERS, mqttAdapter as unknown as AdapterDefinition]),
    log: pino({ level: "silent" }),
  });
  const seen: Reading[] = [];
  gw.bus.subscribe({ name: "t", handle: (b) => void seen.push(...b) });
  const speed = () => seen.findLast((r) => r.point === "speed");
  try {
    gw.start();
    await until(() => gw.device("d1")?.state === "connected", "connected");
    // Born before the gateway subscribed: its next data asks for a rebirth.
    await pub("DDATA", "D1", [{ alias: 1, type: "Double", value: 42 }]);
    await until(() => speed()?.quality === "good", "first value", 5_000);
    for (let outage = 1; outage <= 5; outage++) {
      const restarted = own.restart(1_500);
      await until(
        () => gw.device("d1")?.state === "disconnected" && isDisconnected(speed()),
        `outage ${outage}: bad/Disconnected`,
        1_400,
      );
      await restarted;
      await until(
        () => node.connected && gw.device("d1")?.state !== "disconnected",
        `outage ${outage}: both back`,
        8_000,
      );
      // The same value as before: births the gateway may have missed, or data whose seq gap asks for them.
      await pub("DDATA", "D1", [{ alias: 1, type: "Double", value: 42 }]);
      await until(
        () => gw.device("d1")?.state === "connected" && speed()?.quality === "good",
        `outage ${outage}: good again`,
        8_000,
      );
      expect(speed()).toMatchObject({ value: 42, address: "spBv1.0/G/E1/D1:Speed" });
    }
  } finally {
    await gw.stop();
    await node.endAsync(true);
    await own.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
