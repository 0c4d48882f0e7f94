import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rebirthHoldoffMs } from "../../adapters/mqtt/sparkplug.js";
import { decodePayload, encodePayload, type MetricIn } from "../../protocols/sparkplug/payload.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { instance, mosquittoPub, recorder, until } from "./helpers.js";

let broker: Broker;
let node: MqttClient;
beforeAll(async () => {
  broker = await startBroker();
  node = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
});
afterAll(async () => {
  await node?.endAsync(true);
  await broker?.stop();
});

const G = "Plant1";
const topic = (type: string, n: string, d?: string) => `spBv1.0/${G}/${type}/${n}${d ? `/${d}` : ""}`;
const send = (t: string, seq: number | undefined, metrics: MetricIn[], timestamp = Date.now()) =>
  node.publishAsync(
    t,
    Buffer.from(encodePayload({ timestamp, ...(seq === undefined ? {} : { seq }), metrics })),
    { qos: 1 },
  );

const points = [
  { id: "rpm", type: "int32", metric: "Motor/RPM", publish: "always" },
  { id: "temp", type: "float64", metric: "Motor/Temp", publish: "always" },
  { id: "count", type: "uint64", metric: "Count", publish: "always" },
  { id: "speed_sp", type: "float64", metric: "Speed SP", access: "readwrite", publish: "always" },
];

describe("Sparkplug B device", () => {
  let n = 0;
  let edge: string;
  let t: ReturnType<typeof instance>;
  beforeEach(async () => {
    edge = `edge${++n}`;
    t = instance({ url: broker.url, sparkplug: { groupId: G, edgeNodeId: edge, deviceId: "press" } }, points);
    await t.adapter.start();
    return () => t.adapter.stop();
  });
  const births = async (x = t) => {
    await send(topic("NBIRTH", edge), 0, [
      { name: "bdSeq", type: "Int64", value: 0 },
      { name: "Node Control/Rebirth", type: "Boolean", value: false },
    ]);
    await send(topic("DBIRTH", edge, "press"), 1, [
      { name: "Motor/RPM", alias: 1, type: "Int32", value: 1000 },
      { name: "Motor/Temp", alias: 2, type: "Double", value: 40.5 },
      { name: "Count", alias: 3, type: "UInt64", value: "18446744073709551615" },
      { name: "Speed SP", alias: 4, type: "Float", value: 10 },
    ]);
    await until(() => x.last("speed_sp"), "birth values");
  };

  it("births publish values; data with aliases maps to points with metric timestamps", async () => {
    await births();
    expect(t.last("rpm")).toMatchObject({
      value: 1000,
      quality: "good",
      address: `spBv1.0/${G}/${edge}/press:Motor/RPM`,
    });
    expect(t.last("count")).toMatchObject({ value: "18446744073709551615" });
    await send(topic("DDATA", edge, "press"), 2, [
      { alias: 1, type: "Int32", value: 1200, timestamp: 1_700_000_000_123 },
    ]);
    await until(() => t.last("rpm")?.value === 1200, "DDATA");
    expect(t.last("rpm")).toMatchObject({ sourceTs: 1_700_000_000_123, quality: "good" });
  });

  it("DDEATH and NDEATH turn every point bad/Disconnected", async () => {
    await births();
    await send(topic("DDEATH", edge, "press"), 2, []);
    await until(() => t.last("temp")?.status === "Disconnected", "DDEATH");
    expect(
      t.emitted
        .filter((s) => s.status === "Disconnected")
        .map((s) => s.point)
        .sort(),
    ).toEqual(["count", "rpm", "speed_sp", "temp"]);
    await births();
    await send(topic("NDEATH", edge), undefined, [{ name: "bdSeq", type: "Int64", value: 0 }]);
    await until(() => t.last("rpm")?.status === "Disconnected", "NDEATH");
  });

  it("a seq gap and an unknown alias are answered with NCMD Node Control/Rebirth on the broker", async () => {
    const rec = await recorder(broker.url, `spBv1.0/${G}/NCMD/${edge}`);
    try {
      await births();
      await send(topic("DDATA", edge, "press"), 7, [{ alias: 1, type: "Int32", value: 1 }]);
      const cmd = await until(() => rec.got[0], "rebirth NCMD");
      const decoded = decodePayload(cmd.payload);
      expect(decoded.ok && decoded.payload.metrics[0]).toMatchObject({
        name: "Node Control/Rebirth",
        type: "Boolean",
        value: true,
      });
      expect(t.metrics.counters.get("sparkplug_rebirth_requests")).toBe(1);
      // A rebirth, then an unknown alias; the request throttle is per 5 s, so count the alias only.
      await births();
      await send(topic("DDATA", edge, "press"), 2, [{ alias: 99, type: "Int32", value: 1 }]);
      await until(() => t.metrics.counters.get("sparkplug_unknown_aliases") === 1, "unknown alias counted");
    } finally {
      await rec.close();
    }
  });

  it("one rebirth request per edge node: two gateway devices on one broker send one NCMD between them", async () => {
    await t.adapter.stop(); // this test runs its own two instances
    const rec = await recorder(broker.url, `spBv1.0/${G}/NCMD/${edge}`);
    // Client ids whose holdoffs differ, so the order of the two is known: the second sees the first's NCMD.
    // Both at least 400 ms, so the births below answer their on-connect requests before either is sent.
    const [early, late] = Array.from({ length: 40 }, (_, i) => `tb-${i}`)
      .map((id) => ({ id, ms: rebirthHoldoffMs(id) }))
      .filter((x) => x.ms >= 400)
      .sort((a, b) => a.ms - b.ms)
      .filter((x, i, all) => i === 0 || x.ms - all[0]!.ms >= 100);
    const other = instance(
      { url: broker.url, clientId: late!.id, sparkplug: { groupId: G, edgeNodeId: edge, deviceId: "mixer" } },
      [{ id: "level", type: "float64", metric: "Level" }],
    );
    const first = instance(
      {
        url: broker.url,
        clientId: early!.id,
        sparkplug: { groupId: G, edgeNodeId: edge, deviceId: "press" },
      },
      points,
    );
    const requests = (x: typeof first) => x.metrics.counters.get("sparkplug_rebirth_requests") ?? 0;
    const skipped = (x: typeof first) => x.metrics.counters.get("sparkplug_rebirth_skipped") ?? 0;
    await other.adapter.start();
    await first.adapter.start();
    try {
      await births(first);
      // Each asked for a rebirth on connect; the births answered that, so neither sent one.
      await until(() => skipped(first) === 1 && skipped(other) === 1, "connect rebirths skipped");
      expect(rec.got).toHaveLength(0);
      // The same seq gaps reach both connections at once; each sees a need for a rebirth, repeatedly.
      for (const seq of [9, 20, 30])
        await send(topic("DDATA", edge, "press"), seq, [{ alias: 1, type: "Int32", value: seq }]);
      // Both have decided: one asked, the other saw that NCMD during its holdoff and kept quiet.
      await until(
        () => requests(first) + skipped(first) > 1 && requests(other) + skipped(other) > 1,
        "both decided",
      );
      expect([requests(first), requests(other)]).toEqual([1, 0]);
      expect(skipped(other)).toBe(2);
      await until(() => rec.got.length >= 1, "NCMD on the broker");
      expect(rec.got).toHaveLength(1);
    } finally {
      await first.adapter.stop();
      await other.adapter.stop();
      await rec.close();
    }
  });

  it("malformed protobuf (from mosquitto_pub) is counted and harmless", async () => {
    await births();
    await mosquittoPub(broker.url, topic("DDATA", edge, "press"), Buffer.from([0xff, 0xff]));
    await until(() => t.metrics.counters.get("mqtt_malformed_payloads") === 1, "malformed counted");
    await send(topic("DDATA", edge, "press"), 2, [{ alias: 2, type: "Double", value: 41 }]);
    await until(() => t.last("temp")?.value === 41, "data after malformed");
  });

  it("writes go out as DCMD with the birth's datatype; read-only points refuse", async () => {
    const rec = await recorder(broker.url, `spBv1.0/${G}/DCMD/${edge}/press`);
    try {
      await births();
      await expect(t.adapter.write(t.point("speed_sp"), 12.5)).resolves.toEqual({ status: "DCMD" });
      await expect(t.adapter.write(t.point("rpm"), 1)).rejects.toThrow(/read-only/);
      const cmd = await until(() => rec.got[0], "DCMD");
      const d = decodePayload(cmd.payload);
      expect(d.ok && d.payload.metrics[0]).toMatchObject({ name: "Speed SP", type: "Float", value: 12.5 });
    } finally {
      await rec.close();
    }
  });
});
