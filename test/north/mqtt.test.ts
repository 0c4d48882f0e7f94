/** The MQTT UNS sink against a real Mosquitto: payloads, status topic, a broker outage under load, overflow. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import type { MqttSinkConfig } from "../../src/north/config.js";
import { type North, startNorth } from "../../src/north/index.js";
import { createMqttSink, mqttSink } from "../../src/north/mqtt.js";
import type { Reading } from "../../src/schema/reading.js";
import { createSinkTestContext } from "../../src/sdk/sink-testing.js";
import { type Broker, MOSQUITTO, startBroker } from "../peers/mqtt-broker.js";
import {
  Collector,
  firstArrivalsByPoint,
  Generator,
  isIncreasing,
  pass,
  quiet,
  reading,
  readingsOfMessage,
  until,
} from "./helpers.js";

let broker: Broker;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  broker = await startBroker({ persistence: true });
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(sink: Partial<MqttSinkConfig>, bus = createBus()) {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-"));
  const collector = await Collector.open(broker.url);
  const north: North = await startNorth(
    [{ type: "mqtt", id: "uns", url: broker.url, reconnectPeriodMs: 500, ...sink } as MqttSinkConfig],
    { gateway: "gw1", dataDir, bus, log: quiet },
  );
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => collector.close(),
    () => north.close(),
  );
  await until(() => north.status()[0]!.connected);
  return { bus, north, collector, dataDir };
}

/** Data messages as they arrive: topic, size, readings and arrival time. */
function listen(collector: Collector) {
  const out: { topic: string; bytes: number; readings: Reading[]; at: number }[] = [];
  collector.client.on("message", (topic, payload) => {
    if (topic.endsWith("/status")) return;
    out.push({ topic, bytes: payload.length, readings: readingsOfMessage(payload), at: Date.now() });
  });
  return out;
}

describe("MQTT UNS sink", () => {
  it("publishes one message per reading on the topic template, with selection", async () => {
    const { bus, north, collector } = await setup({
      payload: "reading",
      select: { devices: ["press-*"], points: ["t?"] },
    });
    bus.publish([reading(1, "press-1", "t1"), reading(2, "press-1", "temp"), reading(3, "oven", "t1")]);
    bus.publish([reading(4, "press-2", "t2")]);
    expect(await until(() => collector.readings.length >= 2)).toBe(true);
    expect(collector.readings.map((r) => r.seq).sort()).toEqual([1, 4]);
    expect(collector.readings[0]).toEqual(reading(1, "press-1", "t1"));
    expect(await until(() => north.status()[0]!.published === 2)).toBe(true);
    expect(north.status()[0]).toMatchObject({ buffered: 0, dropped: 0 });
  });

  it("batches per device, and keeps a retained online/offline status with a last will", async () => {
    const { bus, north, collector } = await setup({
      payload: "batch",
      batch: { maxReadings: 3, lingerMs: 0 },
    });
    const seen: string[] = [];
    collector.client.on("message", (topic) => seen.push(topic));
    bus.publish([1, 2, 3, 4, 5].map((s) => reading(s, "d1", `p${s}`)));
    bus.publish([reading(6, "d2", "p1")]);
    expect(await until(() => collector.readings.length >= 6)).toBe(true);
    expect(seen.filter((t) => t !== "tagbridge/gw1/status")).toEqual([
      "tagbridge/gw1/d1",
      "tagbridge/gw1/d1",
      "tagbridge/gw1/d2",
    ]);
    expect(collector.status).toContain("online");
    await north.close();
    expect(await until(() => collector.status.at(-1) === "offline")).toBe(true);
  });

  it("batches by gateway on one topic; neither maxReadings nor maxBytes is passed", async () => {
    const { bus, north, collector } = await setup({
      batch: { by: "gateway", maxReadings: 50, maxBytes: 4_096, lingerMs: 60_000 },
    });
    const messages = listen(collector);
    const gen = new Generator(bus, 5, 4);
    for (let i = 0; i < 20; i++) gen.cycle(); // 400 readings of ~190 bytes: batches close at 4 KiB
    const total = gen.seq - 1;
    // Every batch but the last is full and sent; the last lingers (60 s) until close.
    expect(await until(() => north.status()[0]!.published >= total - 25)).toBe(true);
    await pass(200); // the last batch must not go out before close
    const early = north.status()[0]!.published;
    expect(early).toBeLessThan(total);
    expect(await until(() => collector.readings.length === early)).toBe(true);
    await north.close(); // a clean close publishes what is held
    expect(await until(() => collector.seqs().size === total)).toBe(true);
    const data = messages.filter((m) => m.topic !== "tagbridge/gw1/status");
    expect(new Set(data.map((m) => m.topic))).toEqual(new Set(["tagbridge/gw1/batch"]));
    for (const m of data) {
      expect(m.bytes).toBeLessThanOrEqual(4_096);
      expect(m.readings.length).toBeLessThanOrEqual(50);
    }
    for (const m of data.slice(0, -1)) expect(m.bytes).toBeGreaterThan(4_096 - 250); // full
    expect(new Set(data[0]!.readings.map((r) => r.device)).size).toBe(5);
    expect(collector.readings.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // maxReadings closes per-device batches before the byte limit.
    const small = await setup({ batch: { maxReadings: 7, lingerMs: 60_000 } });
    const seen = listen(small.collector);
    small.bus.publish(Array.from({ length: 20 }, (_, i) => reading(1_000 + i, "d1", `p${i % 3}`)));
    expect(await until(() => small.collector.readings.length >= 14)).toBe(true);
    await pass(200); // no third batch of d1 before close
    expect(seen.filter((m) => m.topic === "tagbridge/gw1/d1").map((m) => m.readings.length)).toEqual([7, 7]);
    await small.north.close();
    expect(await until(() => small.collector.readings.length === 20)).toBe(true);
  });

  it("lingerMs: a partial batch is published once its oldest reading has waited that long", async () => {
    const { bus, collector } = await setup({ batch: { by: "gateway", lingerMs: 400 } });
    const messages = listen(collector);
    const t0 = Date.now();
    bus.publish([reading(1, "d1", "p1"), reading(2, "d2", "p1")]);
    await pass(150); // well inside the 400 ms linger
    bus.publish([reading(3, "d1", "p1")]);
    expect(await until(() => collector.readings.length >= 3, 3_000)).toBe(true);
    const data = messages.filter((m) => m.topic === "tagbridge/gw1/batch");
    expect(data.length).toBe(1); // the third reading joined the lingering batch
    expect(data[0]!.readings.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(data[0]!.at - t0).toBeGreaterThanOrEqual(380);
    expect(data[0]!.at - t0).toBeLessThan(1_500);
  });

  it("QoS 0 gateway batches under load: every reading, in seq order per point", async () => {
    const { bus, north, collector } = await setup({
      qos: "0",
      batch: { by: "gateway", maxReadings: 64, lingerMs: 20 },
    });
    const messages = listen(collector);
    const gen = new Generator(bus, 10, 10);
    const run = gen.run(2); // 100 readings every 2 ms
    expect(await until(() => gen.seq > 20_000)).toBe(true);
    run.stop();
    const total = gen.seq - 1;
    expect(await until(() => collector.seqs().size >= total)).toBe(true);
    for (const [point, seqs] of firstArrivalsByPoint(collector.readings)) {
      expect(isIncreasing(seqs), point).toBe(true);
    }
    const data = messages.filter((m) => m.topic === "tagbridge/gw1/batch");
    expect(Math.max(...data.map((m) => m.readings.length))).toBe(64);
    expect(total / data.length).toBeGreaterThan(30);
    expect(north.status()[0]).toMatchObject({ published: total, buffered: 0, dropped: 0 });
  });

  it("encoding: compact, by gateway under load: compact Reading batches v1 that decode to exactly the readings", async () => {
    const { bus, north, collector } = await setup({
      qos: "0",
      batch: { by: "gateway", maxReadings: 64, lingerMs: 20, encoding: "compact" },
    });
    const raw: Buffer[] = [];
    collector.client.on("message", (topic, payload) => {
      if (topic === "tagbridge/gw1/batch") raw.push(payload);
    });
    const gen = new Generator(bus, 10, 10);
    const sent: Reading[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(...gen.cycle());
      await pass(2); // spread over time, so that batches close by size and by linger
    }
    const last: Reading = {
      ...reading(gen.seq, "dev0", "p0", 'é "x"'),
      status: "Good",
      unit: "°C",
      address: "40001",
    };
    bus.publish([last]);
    sent.push(last);
    expect(await until(() => collector.readings.length >= sent.length)).toBe(true);
    const first = JSON.parse(raw[0]!.toString()) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(["v", "gateway", "t0", "columns", "rows"]);
    expect(first).toMatchObject({ v: 1, gateway: "gw1" });
    expect(Math.max(...raw.map((p) => readingsOfMessage(p).length))).toBe(64);
    expect(collector.readings).toEqual(sent); // one connection, QoS 0: in order, none twice
    expect(north.status()[0]).toMatchObject({ published: sent.length, buffered: 0, dropped: 0 });
  });

  it.skipIf(!MOSQUITTO || process.env.MQTT_URL).each([
    ["batches", { batch: { maxReadings: 10, lingerMs: 0 } }],
    ["one message per reading", { payload: "reading" as const }],
  ])(
    "a stalled broker under load, %s: nothing dropped, every reading arrives intact and in order per point",
    async (_, sink: Partial<MqttSinkConfig>) => {
      // The broker frozen (connected, reading nothing) while the input outruns the bus queue: the
      // stalled publish is given up and what follows goes to the buffer, twice over. A publish is
      // given up after 2 s here (default 10 s), so that a stall the socket buffers hide ends soon.
      const { bus, north, collector } = await setup({ qos: "0", publishTimeoutMs: 2_000, ...sink });
      const gen = new Generator(bus, 1, 10);
      const sent: Reading[] = [];
      for (let stall = 0; stall < 2; stall++) {
        const before = sent.length;
        const errorsBefore = north.status()[0]!.publishErrors;
        const thaw = broker.freeze!();
        try {
          // Until more than the bus queue holds went in and the sink gave up a stalled publish
          // (a deadline, not a duration: a loaded machine takes longer to produce them, and the
          // kernel's socket buffers absorb several MB of batches before the stall shows).
          const end = Date.now() + 20_000;
          const stalled = () =>
            sent.length - before >= 70_000 && north.status()[0]!.publishErrors > errorsBefore;
          while (Date.now() < end && !stalled() && sent.length - before < 150_000) {
            sent.push(...gen.cycle());
            await new Promise((r) => setImmediate(r));
          }
          await until(stalled, Math.max(0, end - Date.now()));
        } finally {
          thaw();
        }
        expect(sent.length - before).toBeGreaterThan(60_000); // more than the bus queue holds
        expect(north.status()[0]!.publishErrors).toBeGreaterThan(errorsBefore);
        expect(await until(() => collector.seqs().size >= sent.length, 30_000)).toBe(true);
      }
      for (const r of collector.readings) expect(r).toEqual(sent[r.seq - 1]);
      for (const [point, seqs] of firstArrivalsByPoint(collector.readings)) {
        expect(isIncreasing(seqs), point).toBe(true);
      }
      await until(() => north.status()[0]!.buffered === 0);
      expect(north.status()[0]).toMatchObject({ published: sent.length, buffered: 0, dropped: 0 });
    },
    120_000,
  );

  it.skipIf(!MOSQUITTO || process.env.MQTT_URL)(
    "says a batch's memory is released only once the socket has taken its payload",
    async () => {
      // Against a frozen broker the kernel's buffers fill, then QoS 0 publishes of small payloads
      // (under the socket's 16 KiB high-water mark) resolve while still queued in the socket. A
      // payload overwritten whenever `released()` says so must still arrive as it was sent.
      const { ctx, waitForState } = createSinkTestContext(
        mqttSink,
        { url: broker.url, qos: "0", batch: { topic: "raw/{gateway}/{device}" } },
        { gateway: "gw1", sink: "mem" },
      );
      const transport = createMqttSink(ctx);
      const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const got: string[] = [];
      sub.on("message", (_, payload) => got.push(payload.toString("latin1")));
      await sub.subscribeAsync("raw/#", { qos: 0 });
      cleanups.push(
        () => sub.endAsync(true),
        () => transport.stop(),
      );
      await transport.start();
      await waitForState("connected");
      const batching = transport.batching!;
      const thaw = broker.freeze!();
      const sent: string[] = [];
      let held = 0;
      let stuck: Promise<void> | undefined;
      try {
        for (let i = 0; i < 20_000 && held < 3; i++) {
          const text = `[${i}]`.padEnd(2_000, " ");
          const payload = Buffer.from(text, "latin1");
          sent.push(text);
          const p = batching.publish([{ key: "d", count: 1, payload }], { historical: false });
          if ((await Promise.race([p.then(() => true), pass(300).then(() => false)])) === false) {
            stuck = p; // waits for the socket to drain: the broker must read first
            break;
          }
          if (batching.released?.())
            payload.fill(0x58); // reused: overwritten with X
          else held++;
        }
      } finally {
        thaw();
      }
      await stuck;
      expect(held + (stuck ? 1 : 0)).toBeGreaterThan(0); // the socket did queue payloads
      expect(await until(() => got.length >= sent.length, 20_000)).toBe(true);
      expect(got).toEqual(sent);
    },
    40_000,
  );

  it.each([
    ["per device (defaults)", {}],
    ["by gateway", { by: "gateway" as const, maxReadings: 200, lingerMs: 50 }],
    [
      "compact, by gateway",
      { by: "gateway" as const, maxReadings: 200, lingerMs: 50, encoding: "compact" as const },
    ],
  ])(
    "broker stopped for a while under load, batches %s: every reading arrives, in seq order per point",
    async (_, batch) => {
      const { bus, north, collector } = await setup({ payload: "batch", batch });
      const messages = listen(collector);
      const gen = new Generator(bus, 5, 4);
      const run = gen.run(5); // 20 readings every 5 ms: ~4,000 readings/s
      expect(await until(() => north.status()[0]!.published > 500)).toBe(true);
      let sawBuffering = false;
      const watch = setInterval(() => {
        const s = north.status()[0]!;
        if (!s.connected && s.buffered > 0) sawBuffering = true;
      }, 20);
      await broker.restart(1_500);
      const atRestart = gen.seq;
      expect(await until(() => gen.seq > atRestart + 2_000)).toBe(true); // load goes on after it
      run.stop();
      clearInterval(watch);
      const total = gen.seq - 1;
      expect(await until(() => collector.seqs().size >= total, 20_000)).toBe(true);
      expect(sawBuffering).toBe(true);
      expect([...collector.seqs()].sort((a, b) => a - b)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      for (const [point, seqs] of firstArrivalsByPoint(collector.readings)) {
        expect(isIncreasing(seqs), point).toBe(true);
      }
      await until(() => north.status()[0]!.buffered === 0);
      expect(north.status()[0]).toMatchObject({ connected: true, buffered: 0, dropped: 0 });
      // The backlog went out in batches too.
      const data = messages.filter((m) => !m.topic.endsWith("/status"));
      expect(collector.readings.length / data.length).toBeGreaterThan(4);
    },
    40_000,
  );

  it("overflow during an outage: the drop counter equals what was lost, the oldest go first", async () => {
    const { bus, north, collector } = await setup({
      payload: "batch",
      buffer: { maxSizeMb: 0.05, overflow: "drop-oldest" },
    });
    bus.publish([reading(1, "d1", "p1")]);
    expect(await until(() => collector.readings.length === 1)).toBe(true);
    const outage = broker.restart(2_000);
    expect(await until(() => !north.status()[0]!.connected)).toBe(true);
    const gen = new Generator(bus, 4, 5, 2);
    for (let i = 0; i < 100; i++) gen.cycle(); // 2,000 readings, far more than 50 KiB of JSON
    await until(() => north.status()[0]!.buffered > 0 && north.status()[0]!.dropped > 0, 2_000);
    await outage;
    expect(await until(() => north.status()[0]!.connected && north.status()[0]!.buffered === 0, 15_000)).toBe(
      true,
    );
    const total = gen.seq - 1;
    const dropped = north.status()[0]!.dropped;
    expect(await until(() => collector.seqs().size >= total - dropped, 10_000)).toBe(true);
    await pass(300); // nothing more may arrive than was not dropped
    const got = collector.seqs();
    expect(dropped).toBeGreaterThan(1_000);
    expect(total - got.size).toBe(dropped);
    const lost = Array.from({ length: total }, (_, i) => i + 1).filter((s) => !got.has(s));
    expect(Math.max(...lost)).toBeLessThan(Math.min(...[...got].filter((s) => s > 1))); // drop-oldest
  }, 40_000);
});
