/**
 * An orderly stop of the Sparkplug B edge node sink: NDEATH, then MQTT DISCONNECT, so Mosquitto
 * discards the will and a host sees exactly one NDEATH (it saw two: the sink's and the will, because
 * the sink closed its socket without DISCONNECT). Counted by a real subscriber on Mosquitto, payloads
 * decoded with Eclipse Tahu's sparkplug-payload.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import sparkplug from "sparkplug-payload";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import { startNorth } from "../../src/north/index.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { quiet, reading, until } from "./helpers.js";

const tahu = sparkplug.get("spBv1.0")!;
let broker: Broker;
let host: MqttClient;
const got: { topic: string; payload: Buffer }[] = [];

beforeAll(async () => {
  broker = await startBroker();
  host = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  host.on("message", (topic, payload) => got.push({ topic, payload }));
  await host.subscribeAsync(["spBv1.0/G/#", "barrier/#"], { qos: 1 });
});
afterAll(async () => {
  await host?.endAsync(true);
  await broker?.stop();
});

/**
 * Resolves once the broker has handled everything that happened before the call: two round trips
 * of a marker through Mosquitto, after the sink's socket was already closed, so a will it would
 * publish for that socket has been published and delivered before the second marker.
 */
async function barrier(name: string) {
  for (const i of [1, 2]) {
    const topic = `barrier/${name}/${i}`;
    await host.publishAsync(topic, "x", { qos: 1 });
    expect(await until(() => got.some((m) => m.topic === topic), 5_000)).toBe(true);
  }
}

const ndeaths = () => got.filter((m) => m.topic === "spBv1.0/G/NDEATH/N");

it.each([1, 2, 3])("stop %i: exactly one NDEATH (NDEATH then DISCONNECT, no will)", async (run) => {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-spb-stop-"));
  const bus = createBus();
  const before = ndeaths().length;
  const births = () => got.filter((m) => m.topic === "spBv1.0/G/NBIRTH/N").length;
  const birthsBefore = births();
  try {
    const north = await startNorth(
      [{ type: "sparkplug", id: "spb", url: broker.url, groupId: "G", edgeNodeId: "N", qos: "1" } as never],
      { gateway: "gw1", dataDir, bus, log: quiet },
    );
    expect(await until(() => north.status()[0]!.connected && births() > birthsBefore)).toBe(true);
    bus.publish([reading(run, "d1", "t", run)]);
    expect(
      await until(() =>
        got.some((m) => m.topic === "spBv1.0/G/DDATA/N/d1" || m.topic === "spBv1.0/G/DBIRTH/N/d1"),
      ),
    ).toBe(true);
    await north.close();
    await barrier(`stop-${run}`);
    const mine = ndeaths().slice(before);
    expect(mine).toHaveLength(1);
    const nbirth = got.filter((m) => m.topic === "spBv1.0/G/NBIRTH/N").at(-1)!;
    const bd = (b: Buffer) => String(tahu.decodePayload(b).metrics?.find((m) => m.name === "bdSeq")?.value);
    expect(bd(mine[0]!.payload)).toBe(bd(nbirth.payload));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it("stop against a frozen broker is bounded: the socket is dropped when no PUBACK comes", async (ctx) => {
  if (!broker.freeze) ctx.skip(); // aedes in process cannot be frozen
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-spb-stop-"));
  const bus = createBus();
  const north = await startNorth(
    [{ type: "sparkplug", id: "spb2", url: broker.url, groupId: "G2", edgeNodeId: "N", qos: "1" } as never],
    { gateway: "gw1", dataDir, bus, log: quiet },
  );
  let thaw: (() => void) | undefined;
  try {
    expect(await until(() => north.status()[0]!.connected)).toBe(true);
    thaw = broker.freeze!();
    const t0 = Date.now();
    await north.close();
    expect(Date.now() - t0).toBeLessThan(4_000);
  } finally {
    thaw?.();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
