/**
 * The replay of a backlog of many pages (the drain keeps two pages out at once on these
 * transports) against real peers: every reading arrives once, in exactly the buffer's order; and a
 * JetStream negative answer fails the publish (the readings stay buffered).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import type { SinkConfig } from "../../src/north/config.js";
import { startNorth } from "../../src/north/index.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { type NatsServer, startNats } from "../peers/nats.js";
import { freePort } from "../peers/process.js";
import { Collector, Generator, quiet, until } from "./helpers.js";

/** Five pages of the drain (2,000 readings each), and a bit. */
const BACKLOG = 10_400;

let broker: Broker;
let nats: NatsServer;
let nc: NatsConnection;
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  broker = await startBroker({ persistence: true });
  nats = await startNats();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await broker?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A data directory whose sink buffer holds BACKLOG readings (seq 1…), buffered while `sink` had no server. */
async function backlog(sink: (url: string) => SinkConfig, deadUrl: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-replay-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const bus = createBus();
  const north = await startNorth([sink(deadUrl)], { gateway: "gw1", dataDir, bus, log: quiet });
  const gen = new Generator(bus, 20, 10);
  while (gen.seq <= BACKLOG) gen.cycle();
  expect(await until(() => north.status()[0]!.buffered === BACKLOG)).toBe(true);
  await north.close();
  return dataDir;
}

it("MQTT, one QoS 1 message per reading: a backlog of five pages arrives once each, in buffer order", async () => {
  const sink = (url: string) =>
    ({ type: "mqtt", id: "uns", url, payload: "reading", qos: "1", reconnectPeriodMs: 200 }) as SinkConfig;
  const dataDir = await backlog(sink, `mqtt://127.0.0.1:${await freePort()}`);
  const collector = await Collector.open(broker.url, "tagbridge/#", `replay-${process.pid}`);
  cleanups.push(() => collector.close());
  const north = await startNorth([sink(broker.url)], {
    gateway: "gw1",
    dataDir,
    bus: createBus(),
    log: quiet,
  });
  cleanups.push(() => north.close());
  expect(await until(() => north.status()[0]!.buffered === 0, 30_000)).toBe(true);
  expect(await until(() => collector.readings.length >= BACKLOG, 10_000)).toBe(true);
  expect(collector.readings.map((r) => r.seq)).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
  expect(north.status()[0]).toMatchObject({ published: BACKLOG, dropped: 0, publishErrors: 0 });
}, 60_000);

it("NATS JetStream: a backlog of five pages is stored once each, in buffer order, with its msg ids", async () => {
  const stream = `TB_REPLAY_${process.pid}`;
  const sink = (url: string) =>
    ({ type: "nats", id: "js", servers: [url], stream: { name: stream } }) as SinkConfig;
  const dataDir = await backlog(sink, `nats://127.0.0.1:${await freePort()}`);
  const north = await startNorth([sink(nats.url)], { gateway: "gw1", dataDir, bus: createBus(), log: quiet });
  cleanups.push(
    async () => (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined),
    () => north.close(),
  );
  expect(await until(() => north.status()[0]!.buffered === 0, 30_000)).toBe(true);
  expect(north.status()[0]).toMatchObject({ published: BACKLOG, dropped: 0, publishErrors: 0 });
  const consumer = await jetstream(nc).consumers.get(stream);
  const ids: string[] = [];
  const seqs: number[] = [];
  const messages = await consumer.consume({ max_messages: 1000 });
  const timer = setTimeout(() => messages.stop(), 15_000);
  for await (const m of messages) {
    ids.push(m.headers?.get("Nats-Msg-Id") ?? "");
    seqs.push(m.json<{ seq: number }>().seq);
    if (seqs.length >= BACKLOG) break;
  }
  clearTimeout(timer);
  await messages.close();
  expect(seqs).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
  expect(ids.slice(0, 2)).toEqual(["gw1:1", "gw1:2"]);
  expect((await (await jetstreamManager(nc)).streams.info(stream)).state.messages).toBe(BACKLOG);
}, 60_000);

it("NATS JetStream: no stream for the subject fails the publish; the readings stay buffered", async () => {
  const stream = `TB_OTHER_${process.pid}`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`other${process.pid}.>`] });
  cleanups.push(() => jsm.streams.delete(stream).catch(() => undefined));
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-replay-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const bus = createBus();
  const north = await startNorth(
    [
      {
        type: "nats",
        id: "js",
        servers: [nats.url],
        stream: { name: stream, create: "never" },
      } as SinkConfig,
    ],
    { gateway: "gw1", dataDir, bus, log: quiet },
  );
  cleanups.push(() => north.close());
  expect(await until(() => north.status()[0]!.connected)).toBe(true);
  new Generator(bus, 2, 2).cycle();
  expect(await until(() => north.status()[0]!.publishErrors > 0)).toBe(true);
  const s = north.status()[0]!;
  expect(s.lastError).toMatch(/no JetStream stream/);
  expect(s).toMatchObject({ published: 0, dropped: 0 });
  expect(s.buffered).toBe(4);
});
