/** The NATS JetStream sink against a real nats-server with JetStream (local binary on a free port). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import type { NatsSinkConfig } from "../../src/north/config.js";
import { type North, startNorth } from "../../src/north/index.js";
import { defaultSubjects } from "../../src/north/nats.js";
import type { Reading } from "../../src/schema/reading.js";
import { type NatsServer, startNats } from "../peers/nats.js";
import { firstArrivalsByPoint, Generator, isIncreasing, quiet, reading, until } from "./helpers.js";

let server: NatsServer;
let nc: NatsConnection;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startNats({ restartable: true });
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(sink: Partial<NatsSinkConfig>) {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-nats-"));
  const bus = createBus();
  const stream = `TB_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const gateway = stream.toLowerCase();
  const north: North = await startNorth(
    [{ type: "nats", id: "js", servers: [server.url], stream: { name: stream }, ...sink } as NatsSinkConfig],
    { gateway, dataDir, bus, log: quiet },
  );
  cleanups.push(
    () => rmSync(dataDir, { recursive: true, force: true }),
    async () => (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined),
    () => north.close(),
  );
  expect(await until(() => north.status()[0]!.connected, 10_000)).toBe(true);
  return { bus, north, stream, gateway };
}

/** Every message of the stream, in stream order. */
async function readStream(stream: string, expected: number, timeoutMs = 15_000) {
  const out: { subject: string; id: string | undefined; reading: Reading }[] = [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 1000 });
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  for await (const m of messages) {
    out.push({ subject: m.subject, id: m.headers?.get("Nats-Msg-Id"), reading: m.json<Reading>() });
    if (out.length >= expected) break;
  }
  clearTimeout(timer);
  await messages.close();
  return out;
}

describe("NATS JetStream sink", () => {
  it("creates the stream, publishes JSON readings with msg ids, de-duplicates by seq", async () => {
    const { bus, north, stream, gateway } = await setup({});
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(stream)).config.subjects).toEqual([`tagbridge.${gateway}.>`]);
    bus.publish([reading(1, "press.1", "temp"), reading(2, "oven", "t*")]);
    expect(await until(() => north.status()[0]!.published === 2)).toBe(true);
    bus.publish([reading(1, "press.1", "temp")]); // a re-send of seq 1, as after a crash
    expect(await until(() => north.status()[0]!.published === 3)).toBe(true);
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
    const got = await readStream(stream, 2);
    expect(got.map((m) => [m.subject, m.id])).toEqual([
      [`tagbridge.${gateway}.press_1.temp`, `${gateway}:1`],
      [`tagbridge.${gateway}.oven.t_`, `${gateway}:2`],
    ]);
    expect(got[0]!.reading).toEqual(reading(1, "press.1", "temp"));
  });

  it("server stopped for a while under load: every reading arrives, in seq order per point", async () => {
    const { bus, north, stream } = await setup({});
    const gen = new Generator(bus, 5, 4);
    const run = gen.run(10); // ~2,000 readings/s
    expect(await until(() => north.status()[0]!.published > 400)).toBe(true);
    let sawBuffering = false;
    const watch = setInterval(() => {
      const s = north.status()[0]!;
      if (!s.connected && s.buffered > 0) sawBuffering = true;
    }, 20);
    await server.restart(1_500);
    const atRestart = gen.seq;
    expect(await until(() => gen.seq > atRestart + 1_000)).toBe(true); // load goes on after it
    run.stop();
    clearInterval(watch);
    const total = gen.seq - 1;
    expect(sawBuffering).toBe(true);
    expect(await until(() => north.status()[0]!.connected && north.status()[0]!.buffered === 0, 20_000)).toBe(
      true,
    );
    const got = await readStream(stream, total);
    const seqs = new Set(got.map((m) => m.reading.seq));
    expect(seqs.size).toBe(total);
    for (const [point, list] of firstArrivalsByPoint(got.map((m) => m.reading)))
      expect(isIncreasing(list), point).toBe(true);
  }, 40_000);

  it("derives stream subjects from the template", () => {
    expect(defaultSubjects("tagbridge.{gateway}.{device}.{point}", "gw.1")).toEqual(["tagbridge.gw_1.>"]);
    expect(defaultSubjects("plant.{device}", "g")).toEqual(["plant.>"]);
  });
});
