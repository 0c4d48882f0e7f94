/**
 * The Sparkplug B edge node sink against Mosquitto, its output decoded by Eclipse Tahu's JS library
 * (sparkplug-payload): births, aliases, report by exception, seq, rebirth on NCMD, DDEATH, NDEATH,
 * and buffered data replayed with is_historical after a broker outage.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import sparkplug from "sparkplug-payload";
import type { UMetric, UPayload } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import type { SparkplugSinkConfig } from "../../src/north/config.js";
import { type North, startNorth } from "../../src/north/index.js";
import type { Reading } from "../../src/schema/reading.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { pass, quiet, reading, until } from "./helpers.js";

const tahu = sparkplug.get("spBv1.0")!;
let broker: Broker;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Msg {
  type: string;
  device: string | undefined;
  payload: UPayload;
}

const num = (v: unknown) => Number(String(v));
const metric = (m: Msg, name: string) => m.payload.metrics?.find((x) => x.name === name);

async function setup(extra: Partial<SparkplugSinkConfig> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-spb-"));
  const bus = createBus();
  const msgs: Msg[] = [];
  const host: MqttClient = await mqtt.connectAsync(broker.url, { reconnectPeriod: 50 });
  host.on("message", (topic, payload) => {
    const [, , type, , device] = topic.split("/");
    msgs.push({ type: type!, device, payload: tahu.decodePayload(payload) });
  });
  await host.subscribeAsync("spBv1.0/G/#", { qos: 1 });
  const north: North = await startNorth(
    [
      {
        type: "sparkplug",
        id: "spb",
        url: broker.url,
        groupId: "G",
        edgeNodeId: "N",
        reconnectPeriodMs: 300,
        ...extra,
      } as SparkplugSinkConfig,
    ],
    { gateway: "gw1", dataDir, bus, log: quiet },
  );
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => host.endAsync(true),
    () => north.close(),
  );
  return { bus, north, msgs, host };
}

/** Every message after an NBIRTH has the previous seq + 1 (mod 256). */
function expectNoSeqGaps(msgs: readonly Msg[]) {
  let prev: number | undefined;
  for (const m of msgs) {
    if (m.type === "NDEATH" || m.type.endsWith("CMD")) continue;
    const seq = num(m.payload.seq);
    if (m.type === "NBIRTH") expect(seq).toBe(0);
    else expect(seq, `${m.type} ${m.device}`).toBe(((prev ?? -1) + 1) % 256);
    prev = seq;
  }
}

describe("Sparkplug B edge node sink", () => {
  it("births with bdSeq and Rebirth, DBIRTH with every metric, DDATA by exception with aliases, NDEATH", async () => {
    const { bus, north, msgs } = await setup();
    expect(await until(() => north.status()[0]!.connected)).toBe(true);
    const bad: Reading = { ...reading(3, "d1", "s", "x"), quality: "bad", status: "Timeout" };
    bus.publish([reading(1, "d1", "t", 1.5), reading(2, "d1", "on", true), bad]);
    expect(await until(() => msgs.some((m) => m.type === "DBIRTH"))).toBe(true);
    const nbirth = msgs.find((m) => m.type === "NBIRTH")!;
    expect(metric(nbirth, "bdSeq")?.type).toBe("Int64");
    expect(metric(nbirth, "Node Control/Rebirth")).toMatchObject({ type: "Boolean", value: false });
    const dbirth = msgs.find((m) => m.type === "DBIRTH")!;
    expect(dbirth.device).toBe("d1");
    const t = metric(dbirth, "t") as UMetric;
    expect(t).toMatchObject({ type: "Double", value: 1.5 });
    expect(num(t.timestamp)).toBe(Date.parse(reading(1, "d1", "t").ts));
    expect(t.properties?.Quality).toMatchObject({ type: "Int32", value: 192 });
    expect(metric(dbirth, "on")).toMatchObject({ type: "Boolean", value: true });
    expect(metric(dbirth, "s")?.properties?.Quality).toMatchObject({ value: 0 });
    const aliases = new Set(dbirth.payload.metrics!.map((m) => num(m.alias)));
    expect(aliases.size).toBe(3);

    bus.publish([reading(4, "d1", "t", 1.5), reading(5, "d1", "on", false)]); // t unchanged: not sent
    expect(await until(() => msgs.some((m) => m.type === "DDATA"))).toBe(true);
    const ddata = msgs.find((m) => m.type === "DDATA")!;
    expect(ddata.payload.metrics).toHaveLength(1);
    expect(ddata.payload.metrics![0]!.name ?? undefined).toBeUndefined();
    expect(num(ddata.payload.metrics![0]!.alias)).toBe(num(metric(dbirth, "on")!.alias));
    expect(ddata.payload.metrics![0]!.value).toBe(false);

    await north.close();
    expect(await until(() => msgs.some((m) => m.type === "NDEATH"))).toBe(true);
    const ndeath = msgs.find((m) => m.type === "NDEATH")!;
    expect(num(metric(ndeath, "bdSeq")!.value)).toBe(num(metric(nbirth, "bdSeq")!.value));
    expectNoSeqGaps(msgs);
  });

  it("rebirths on NCMD, sends DDEATH for a disconnected device and births it again", async () => {
    const { bus, north, msgs, host } = await setup();
    expect(await until(() => north.status()[0]!.connected)).toBe(true);
    bus.publish([reading(1, "d1", "t", 1), reading(2, "d2", "t", 2)]);
    expect(await until(() => msgs.filter((m) => m.type === "DBIRTH").length === 2)).toBe(true);
    const ncmd = tahu.encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: "Node Control/Rebirth", type: "Boolean", value: true }],
    });
    await host.publishAsync("spBv1.0/G/NCMD/N", Buffer.from(ncmd));
    expect(await until(() => msgs.filter((m) => m.type === "DBIRTH").length === 4)).toBe(true);
    expect(msgs.filter((m) => m.type === "NBIRTH")).toHaveLength(2);
    const rebirth = msgs.filter((m) => m.type === "DBIRTH").slice(2);
    expect(rebirth.map((m) => [m.device, m.payload.metrics?.[0]?.value])).toEqual([
      ["d1", 1],
      ["d2", 2],
    ]);

    const gone = (seq: number, point: string): Reading => ({
      ...reading(seq, "d1", point, null),
      quality: "bad",
      status: "Disconnected",
    });
    bus.publish([gone(3, "t")]);
    expect(await until(() => msgs.some((m) => m.type === "DDEATH" && m.device === "d1"))).toBe(true);
    bus.publish([reading(4, "d1", "t", 5)]);
    expect(await until(() => msgs.filter((m) => m.type === "DBIRTH" && m.device === "d1").length === 3)).toBe(
      true,
    );
    expectNoSeqGaps(msgs);
  });

  it("buffers through a broker outage and replays with is_historical after a new birth", async () => {
    const { bus, north, msgs } = await setup({ qos: "1" });
    expect(await until(() => north.status()[0]!.connected)).toBe(true);
    bus.publish([reading(1, "d1", "t", 1)]);
    expect(await until(() => msgs.some((m) => m.type === "DBIRTH"))).toBe(true);
    const outage = broker.restart(1_000);
    expect(await until(() => !north.status()[0]!.connected)).toBe(true);
    for (let i = 2; i <= 50; i++) bus.publish([reading(i, "d1", "t", i)]);
    expect(await until(() => north.status()[0]!.buffered === 49)).toBe(true);
    await outage;
    expect(await until(() => north.status()[0]!.connected && north.status()[0]!.buffered === 0, 10_000)).toBe(
      true,
    );
    expect(await until(() => msgs.filter((m) => m.type === "DDATA").length > 0, 5_000)).toBe(true);
    const historical = msgs.filter((m) => m.type === "DDATA").flatMap((m) => m.payload.metrics ?? []);
    const values = msgs
      .filter((m) => m.type === "DDATA")
      .flatMap((m) => m.payload.metrics ?? [])
      .filter((m) => m.isHistorical)
      .map((m) => m.value);
    expect(values).toEqual(Array.from({ length: 49 }, (_, i) => i + 2));
    expect(historical.every((m) => m.isHistorical)).toBe(true);
    const births = msgs.filter((m) => m.type === "NBIRTH");
    expect(births).toHaveLength(2);
    expect(num(metric(births[1]!, "bdSeq")!.value)).toBe((num(metric(births[0]!, "bdSeq")!.value) + 1) % 256);
    expectNoSeqGaps(msgs.slice(msgs.indexOf(births[1]!)));
  }, 30_000);

  it("primary host STATE gating: nothing is published until spBv1.0/STATE/<host> is online; offline stops it again", async () => {
    const hostId = `scada-${process.pid}-${Date.now()}`;
    const stateTopic = `spBv1.0/STATE/${hostId}`;
    const { bus, north, msgs, host } = await setup({ primaryHostId: hostId, qos: "1" });
    const state = (online: boolean) =>
      host.publishAsync(stateTopic, JSON.stringify({ online, timestamp: Date.now() }), {
        qos: 1,
        retain: true,
      });
    cleanups.push(() => host.publishAsync(stateTopic, "", { qos: 1, retain: true })); // clear the retained STATE

    // Connected to the broker, but no host yet: no birth, the data waits in the buffer.
    bus.publish([reading(1, "d1", "t", 1)]);
    bus.publish([reading(2, "d1", "t", 2)]);
    expect(await until(() => north.status()[0]!.buffered === 2, 5_000)).toBe(true);
    await pass(500); // no message may come
    expect(msgs).toEqual([]);
    expect(north.status()[0]!.connected).toBe(false);

    // A host that says offline changes nothing.
    await state(false);
    await pass(300); // no message may come
    expect(msgs).toEqual([]);

    // Host online: NBIRTH, DBIRTH, then the buffered data replayed as historical.
    await state(true);
    expect(await until(() => north.status()[0]!.connected && north.status()[0]!.buffered === 0, 10_000)).toBe(
      true,
    );
    expect(await until(() => msgs.some((m) => m.type === "DDATA"))).toBe(true);
    expect(msgs[0]!.type).toBe("NBIRTH");
    expect(msgs.filter((m) => m.type === "DBIRTH").map((m) => m.device)).toEqual(["d1"]);
    const replayed = msgs.filter((m) => m.type === "DDATA").flatMap((m) => m.payload.metrics ?? []);
    expect(replayed.map((m) => [m.value, m.isHistorical])).toEqual([
      [1, true],
      [2, true],
    ]);
    bus.publish([reading(3, "d1", "t", 3)]); // live
    expect(
      await until(() =>
        msgs.some(
          (m) => m.type === "DDATA" && m.payload.metrics?.some((x) => x.value === 3 && !x.isHistorical),
        ),
      ),
    ).toBe(true);

    // Host offline: the node stops publishing and buffers; no new messages.
    await state(false);
    expect(await until(() => !north.status()[0]!.connected, 5_000)).toBe(true);
    const before = msgs.length;
    bus.publish([reading(4, "d1", "t", 4)]);
    expect(await until(() => north.status()[0]!.buffered === 1, 5_000)).toBe(true);
    await pass(300); // no message may come
    expect(msgs.length).toBe(before);

    // Back online: births again (same session, same bdSeq; seq restarts at 0), then the backlog.
    await state(true);
    expect(await until(() => msgs.filter((m) => m.type === "NBIRTH").length === 2, 5_000)).toBe(true);
    expect(
      await until(() =>
        msgs.some(
          (m) => m.type === "DDATA" && m.payload.metrics?.some((x) => x.value === 4 && x.isHistorical),
        ),
      ),
    ).toBe(true);
    const births = msgs.filter((m) => m.type === "NBIRTH");
    expect(num(metric(births[1]!, "bdSeq")!.value)).toBe(num(metric(births[0]!, "bdSeq")!.value));
    expect(msgs.slice(before).map((m) => m.type)).toEqual(["NBIRTH", "DBIRTH", "DDATA"]);
    expectNoSeqGaps(msgs);
  }, 30_000);
});
