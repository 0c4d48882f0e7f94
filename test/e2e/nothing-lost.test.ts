/**
 * Nothing lost silently (issue 16, item 2), on the real service: a simulator device polled at 100 ms
 * and 250 ms, the event loop blocked on purpose by a synchronous busy loop of 1 s three times, and
 * the simulator in an outage once (read errors, then connect attempts refused). Over the run, the
 * grid ticks of both groups equal reads + readErrors + overruns + missedPolls + skippedPolls
 * (within one tick per group at each edge), and a bus consumer that stops taking readings has its
 * drops in the device's droppedReadings; all of it on REST and /metrics.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceCounters } from "../../src/core/types.js";
import { type Service, startService } from "../../src/service.js";
import { until } from "../helpers/until.js";

const INTERVALS = [100, 250];
/** A common multiple of both intervals: snapshots are taken at one phase of it. */
const CYCLE = 500;
/** Outages start at every multiple of OUTAGE_EVERY_MS since the epoch (see the simulator's README). */
const OUTAGE_EVERY_MS = 5000;

const CONFIG = `
version: 1
gateway: lost-gw
dataDir: ./data
http: { host: 127.0.0.1, port: 0 }
log: { level: warn }
devices:
  - id: press
    type: simulator
    pollIntervalMs: ${INTERVALS[0]}
    reconnect: { minMs: 100, maxMs: 400 }
    connection:
      seed: 7
      outage: { everyMs: ${OUTAGE_EVERY_MS}, durationMs: 700 }
    points:
      - { id: pressure, type: float64, publish: always,
          generator: { kind: randomWalk, step: 1, min: 0, max: 100, start: 50 } }
      - { id: count, type: int32, publish: always, pollIntervalMs: ${INTERVALS[1]},
          generator: { kind: counter } }
`;

/** The poller's clock: monotonic, in epoch ms. */
const now = () => performance.timeOrigin + performance.now();

/** A long synchronous task: nothing else runs on the event loop for `ms`. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  expect(spins).toBeGreaterThan(0);
}

let dir: string;
let service: Service;
let headers: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tagbridge-nothing-lost-"));
  writeFileSync(join(dir, "gateway.yaml"), CONFIG);
  service = await startService(join(dir, "gateway.yaml"), {}, pino({ level: "silent" }));
  headers = { authorization: `Bearer ${readFileSync(join(dir, "data", "admin-token"), "utf8").trim()}` };
}, 30_000);

afterAll(async () => {
  await service?.close();
});

const counters = (): DeviceCounters => service.gateway.device("press")!.counters;
const accounted = (c: DeviceCounters) => c.reads + c.readErrors + c.overruns + c.missedPolls + c.skippedPolls;

/**
 * The counters and the time, taken synchronously 40 ms past a multiple of CYCLE: both groups'
 * ticks there have fired (1 ms after it) and their reads are done, the next is 60 ms away.
 */
async function snapshot(): Promise<{ at: number; c: DeviceCounters }> {
  for (;;) {
    const wait = (((CYCLE + 40 - (now() % CYCLE)) % CYCLE) + CYCLE) % CYCLE;
    const taken = await new Promise<{ at: number; c: DeviceCounters } | undefined>((resolve) =>
      setTimeout(() => {
        const at = now();
        // A timer this late (a busy machine) is not at the phase: try the next cycle.
        resolve(at % CYCLE >= 40 && at % CYCLE < 90 ? { at, c: counters() } : undefined);
      }, wait),
    );
    if (taken) return taken;
  }
}

describe("nothing is lost silently", () => {
  it("every planned poll tick is read, a read error, an overrun, missed or skipped; drops are counted", {
    timeout: 60_000,
  }, async () => {
    await until(
      "press connected and read",
      () => counters().reads >= 3 && service.gateway.device("press")!.state === "connected",
    );
    // A consumer with room for 5 readings that stops taking them after its first batch.
    const blocked = service.gateway.bus.subscribe({
      name: "blocked",
      capacity: 5,
      filter: { devices: ["press"] },
      handle: () => new Promise<void>(() => {}),
    });
    const a = await snapshot();

    // Three long synchronous tasks, each followed by polling on time again.
    for (let i = 0; i < 3; i++) {
      // Away from the outage window (and its reconnect), so these ticks are missed, not skipped.
      await until("a phase clear of the outage, connected", () => {
        const phase = now() % OUTAGE_EVERY_MS;
        return phase > 1500 && phase < 3500 && service.gateway.device("press")!.state === "connected";
      });
      busy(1000);
      const reads = counters().reads;
      await until("polling again after a blocked loop", () => counters().reads >= reads + 5);
    }
    expect(counters().missedPolls).toBeGreaterThanOrEqual(3 * 8);

    // The simulator's next outage: reads fail, connects are refused, then it is back.
    const states = new Set<string>();
    await until(
      "an outage and the recovery after it",
      () => {
        const d = service.gateway.device("press")!;
        states.add(d.state);
        return states.has("disconnected") && d.state === "connected" && d.counters.readErrors > 0;
      },
      OUTAGE_EVERY_MS + 5_000,
      () => [...states],
      5,
    );
    const reads = counters().reads;
    await until("polling after the outage", () => counters().reads >= reads + 5);
    const b = await snapshot();

    // The accounting over the run, per group: the ticks between the two snapshots.
    const planned = INTERVALS.map((ms) => Math.floor(b.at / ms) - Math.floor(a.at / ms));
    const total = planned.reduce((x, y) => x + y, 0);
    const delta = accounted(b.c) - accounted(a.c);
    const by = (k: keyof DeviceCounters) => (b.c[k] as number) - (a.c[k] as number);
    const detail = {
      planned,
      accounted: delta,
      reads: by("reads"),
      readErrors: by("readErrors"),
      overruns: by("overruns"),
      missedPolls: by("missedPolls"),
      skippedPolls: by("skippedPolls"),
      seconds: (b.at - a.at) / 1000,
    };
    process.stdout.write(`nothing-lost: ${JSON.stringify(detail)}\n`);
    expect(Math.abs(delta - total), JSON.stringify(detail)).toBeLessThanOrEqual(INTERVALS.length);
    expect(detail.missedPolls).toBeGreaterThanOrEqual(3 * 8);
    expect(detail.skippedPolls).toBeGreaterThan(0);
    expect(detail.readErrors).toBeGreaterThan(0);
    expect(detail.reads).toBeGreaterThan(0);

    // The consumer's drops are the device's.
    const dropped = blocked.stats().dropped;
    expect(dropped).toBeGreaterThan(10);
    expect(counters().droppedReadings).toBeGreaterThanOrEqual(dropped);

    // On REST …
    const res = await fetch(`${service.url}/api/v1/devices/press`, { headers });
    expect(res.status).toBe(200);
    const rest = ((await res.json()) as { counters: DeviceCounters }).counters;
    for (const k of ["reads", "readErrors", "overruns", "missedPolls", "skippedPolls"] as const)
      expect(rest[k], k).toBeGreaterThanOrEqual(b.c[k]);
    expect(rest.droppedReadings).toBeGreaterThanOrEqual(dropped);
    const list = (await (await fetch(`${service.url}/api/v1/devices`, { headers })).json()) as {
      id: string;
      counters: DeviceCounters;
    }[];
    expect(list.find((d) => d.id === "press")?.counters.missedPolls).toBeGreaterThanOrEqual(b.c.missedPolls);

    // … and on /metrics.
    const droppedBefore = blocked.stats().dropped;
    const metrics = await (await fetch(`${service.url}/metrics`, { headers })).text();
    const gauge = (name: string, labels = "") => {
      const m = new RegExp(`^${name}\\{device="press",adapter="simulator"${labels}\\} (\\d+)$`, "m").exec(
        metrics,
      );
      return m ? Number(m[1]) : undefined;
    };
    expect(gauge("tagbridge_device_missed_polls")).toBeGreaterThanOrEqual(b.c.missedPolls);
    expect(gauge("tagbridge_device_skipped_polls")).toBeGreaterThanOrEqual(b.c.skippedPolls);
    expect(gauge("tagbridge_device_overruns")).toBeGreaterThanOrEqual(b.c.overruns);
    expect(gauge("tagbridge_device_dropped_readings")).toBeGreaterThanOrEqual(dropped);
    const byConsumer = gauge("tagbridge_device_dropped_readings_by_consumer", ',consumer="blocked"');
    expect(byConsumer).toBeGreaterThanOrEqual(droppedBefore);
    expect(byConsumer).toBeLessThanOrEqual(blocked.stats().dropped);
    blocked.close();
  });
});
