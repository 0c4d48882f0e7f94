/**
 * Exact accounting (issue 16): a drop-oldest buffer that keeps overflowing while its backlog
 * replays under live load. Rows the replay is publishing are dropped by new arrivals; they still
 * arrive, so they must not be counted as dropped. A real subscriber is the judge: what never
 * arrived equals the drop counter, and `published` covers at least everything that arrived; per
 * device, what never arrived equals that device's drops in the bus's ledger (queue and buffer).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createBus } from "../../src/core/bus.js";
import type { MqttSinkConfig } from "../../src/north/config.js";
import { startNorth } from "../../src/north/index.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { Collector, Generator, quiet, until } from "./helpers.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ persistence: true });
});
afterAll(async () => {
  await broker?.stop();
});

it("drop-oldest overflowing during a replay under load: dropped equals exactly what never arrived", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-acct-"));
  const bus = createBus();
  const deviceOf = new Map<number, string>();
  bus.subscribe({
    name: "test:sent",
    capacity: 1_000_000,
    handle: (batch) => {
      for (const r of batch) deviceOf.set(r.seq, r.device);
    },
  });
  const collector = await Collector.open(broker.url, "tagbridge/#", `acct-${process.pid}`);
  const north = await startNorth(
    [
      {
        type: "mqtt",
        id: "uns",
        url: broker.url,
        reconnectPeriodMs: 200,
        payload: "reading",
        qos: "1",
        buffer: { maxSizeMb: 0.05, overflow: "drop-oldest" }, // ~170 readings
      } as MqttSinkConfig,
    ],
    { gateway: "gw1", dataDir, bus, log: quiet },
  );
  try {
    const status = () => north.status()[0]!;
    expect(await until(() => status().connected)).toBe(true);
    const gen = new Generator(bus, 5, 4);
    const run = gen.run(10); // ~2,000 readings/s
    let droppedWhileReplaying = false;
    let lastDropped = 0;
    const watch = setInterval(() => {
      const s = status();
      if (s.connected && s.buffered > 0 && s.dropped > lastDropped) droppedWhileReplaying = true;
      lastDropped = s.dropped;
    }, 5);
    expect(await until(() => gen.seq > 500)).toBe(true);
    // A replay of a full 170-reading buffer takes a few ms on a fast machine: the broker goes away
    // and comes back until drops were seen while a backlog replayed (at most four outages).
    for (let outage = 0; outage < 4 && !droppedWhileReplaying; outage++) {
      await broker.restart(1_500);
      expect(await until(() => status().connected, 10_000)).toBe(true);
      // Live load goes on while the backlog replays through a buffer too small for it.
      const replayUntil = gen.seq + 4_000;
      expect(await until(() => gen.seq > replayUntil, 10_000)).toBe(true);
    }
    run.stop();
    clearInterval(watch);
    const total = gen.seq - 1;
    expect(await until(() => status().buffered === 0, 20_000)).toBe(true);
    // One connection, one FIFO: once the last reading arrived, everything sent before it has.
    expect(await until(() => collector.seqs().has(total), 10_000)).toBe(true);
    const s = status();
    const got = collector.seqs();
    expect(droppedWhileReplaying).toBe(true);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.dropped).toBe(total - got.size);
    expect(s.published).toBeGreaterThanOrEqual(got.size);
    const missing = new Map<string, number>();
    for (const [seq, device] of deviceOf)
      if (!got.has(seq)) missing.set(device, (missing.get(device) ?? 0) + 1);
    const ledger = new Map<string, number>();
    for (const d of bus.drops.list())
      if (d.cause === "north:uns" || d.cause === "north:uns:buffer")
        ledger.set(d.device, (ledger.get(d.device) ?? 0) + d.count);
    expect(deviceOf.size).toBe(total);
    expect(Object.fromEntries(ledger)).toEqual(Object.fromEntries(missing));
  } finally {
    await north.close();
    await collector.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
