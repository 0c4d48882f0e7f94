/**
 * A device's loss counters on the real runtime (Gateway, DeviceRunner, Poller, Bus) over a scripted
 * adapter, on vitest's fake clock: every planned poll tick is a read, a read error, an overrun or
 * skipped (missed ticks need a blocked event loop: see poll-accounting.test.ts and
 * test/e2e/nothing-lost.test.ts); readings a bus consumer drops and held samples the device could not
 * keep are its `droppedReadings`, on the API's view and on /metrics.
 */
import pino from "pino";
import Type from "typebox";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Adapter, AdapterContext, AdapterDefinition } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";
import type { DeviceSpec } from "./device.js";
import { Gateway } from "./gateway.js";
import { AdapterRegistry } from "./registry.js";

type P = PointConfig<Record<string, unknown>>;

/** What a test makes its scripted device do. */
interface Knobs {
  readMs: number;
  failReads: boolean;
  failStarts: number;
  /** Pushed samples emitted during start(), before it resolves: held, not published. */
  emitDuringStart: number;
  ctx?: AdapterContext<unknown, unknown>;
}
const knobs = new Map<string, Knobs>();

const scripted: AdapterDefinition = {
  type: "scripted",
  description: "test adapter driven by knobs",
  sdk: "^1.0.0",
  connectionSchema: Type.Object({}),
  pointSchema: Type.Object({}),
  capabilities: ["read"],
  polled: (p) => (p as P).description !== "pushed",
  create(ctx): Adapter {
    const k = knobs.get(ctx.device)!;
    k.ctx = ctx as AdapterContext<unknown, unknown>;
    let n = 0;
    return {
      async start() {
        for (let i = 0; i < k.emitDuringStart; i++)
          ctx.emit([{ point: "pushed", value: i, address: `a${i}` }]);
        if (k.failStarts > 0) {
          k.failStarts--;
          throw new Error("refused");
        }
      },
      async stop() {},
      async read(points) {
        await new Promise((r) => setTimeout(r, k.readMs));
        if (k.failReads) throw new Error("link down");
        n++;
        return points.map((p) => ({ point: p.id, value: n }));
      },
    };
  },
};

const EPOCH = Date.UTC(2026, 0, 1, 8) + 7;
beforeEach(() => {
  vi.useFakeTimers({
    now: EPOCH,
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "performance",
      "Date",
    ],
  });
});

function device(id: string, points: Partial<P>[], extra: Partial<DeviceSpec> = {}): DeviceSpec {
  knobs.set(id, { readMs: 0, failReads: false, failStarts: 0, emitDuringStart: 0 });
  return {
    id,
    type: "scripted",
    pollIntervalMs: 20,
    reconnect: { minMs: 40, maxMs: 160 },
    connection: {},
    points: points.map((p) => ({ type: "int32", publish: "always", ...p }) as P),
    ...extra,
  };
}

let gateway: Gateway | undefined;
function start(devices: DeviceSpec[]): Gateway {
  gateway = new Gateway({
    id: "gw",
    dataDir: "/tmp/tagbridge-test",
    devices,
    registry: new AdapterRegistry([scripted]),
    log: pino({ level: "silent" }),
  });
  gateway.start();
  return gateway;
}

/** Lets `p` settle on the fake clock. */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) await vi.advanceTimersByTimeAsync(1);
  return out;
}

afterEach(async () => {
  if (gateway) await settle(gateway.stop());
  gateway = undefined;
  vi.useRealTimers();
});

/**
 * Grid ticks of an interval planned between a start at `from` and a stop at `to` (epoch ms): from
 * the one nearest to `from`, to the last one due half an interval before `to` at least, and at most
 * to the last one due (taken if its timer fired before the stop).
 */
const planned = (ms: number, from: number, to: number) => ({
  min: Math.round(to / ms) - Math.round(from / ms),
  max: Math.floor(to / ms) - Math.round(from / ms) + 1,
});

describe("a device's loss counters", () => {
  it("every planned poll tick of every group is a read, a read error, an overrun or skipped", async () => {
    const gw = start([device("d", [{ id: "fast" }, { id: "slow", pollIntervalMs: 50 }])]);
    const k = knobs.get("d")!;
    const t0 = Date.now();
    k.failStarts = 2; // connecting for 40 + 80 ms: skipped
    await vi.advanceTimersByTimeAsync(400);
    k.readMs = 30; // slower than 20 ms: overruns
    await vi.advanceTimersByTimeAsync(300);
    k.readMs = 0;
    k.failReads = true; // a read error, then skipped ticks while reconnecting
    await vi.advanceTimersByTimeAsync(100);
    k.failReads = false;
    await vi.advanceTimersByTimeAsync(300);
    k.ctx!.setState("disconnected", "library reconnecting"); // reads declined: skipped
    await vi.advanceTimersByTimeAsync(200);
    k.ctx!.setState("connected");
    await vi.advanceTimersByTimeAsync(313);
    const stopAt = Date.now();
    await settle(gw.stop());
    const stoppedAt = Date.now();
    const c = gw.device("d")!.counters;
    const accounted = c.reads + c.readErrors + c.overruns + c.missedPolls + c.skippedPolls;
    const lo = planned(20, t0, stopAt).min + planned(50, t0, stopAt).min;
    const hi = planned(20, t0, stoppedAt).max + planned(50, t0, stoppedAt).max;
    expect(accounted).toBeGreaterThanOrEqual(lo);
    expect(accounted).toBeLessThanOrEqual(hi);
    expect(c.reads).toBeGreaterThan(0);
    expect(c.readErrors).toBeGreaterThan(0);
    expect(c.overruns).toBeGreaterThan(0);
    expect(c.skippedPolls).toBeGreaterThan(0);
    expect(c.missedPolls).toBe(0); // nothing blocked the fake clock's event loop
  });

  it("readings a bus consumer drops are counted for the device they belong to, on the API and /metrics", async () => {
    const gw = start([device("a", [{ id: "x" }, { id: "y" }]), device("b", [{ id: "x" }])]);
    // A consumer of device a that stops taking readings after its first batch, with room for 3.
    const blocked = gw.bus.subscribe({
      name: "blocked",
      capacity: 3,
      filter: { devices: ["a"] },
      handle: () => new Promise<void>(() => {}),
    });
    const newest = gw.bus.subscribe({
      name: "newest",
      capacity: 1,
      overflow: "drop-newest",
      handle: () => new Promise<void>(() => {}),
    });
    await vi.advanceTimersByTimeAsync(500);
    const a = gw.device("a")!.counters;
    const b = gw.device("b")!.counters;
    const byConsumer = gw.bus.drops.list();
    const count = (device: string, cause: string) =>
      byConsumer.find((d) => d.device === device && d.cause === cause)?.count ?? 0;
    expect(blocked.stats().dropped).toBeGreaterThan(10);
    expect(count("a", "blocked")).toBe(blocked.stats().dropped);
    expect(count("a", "newest") + count("b", "newest")).toBe(newest.stats().dropped);
    expect(count("b", "newest")).toBeGreaterThan(0);
    expect(a.droppedReadings).toBe(count("a", "blocked") + count("a", "newest"));
    expect(b.droppedReadings).toBe(count("b", "newest"));

    const metrics = await gw.metrics.registry.metrics();
    expect(metrics).toContain(
      `tagbridge_device_dropped_readings{device="a",adapter="scripted"} ${a.droppedReadings}`,
    );
    expect(metrics).toContain(
      `tagbridge_device_dropped_readings_by_consumer{device="a",adapter="scripted",consumer="blocked"} ${count("a", "blocked")}`,
    );
    expect(metrics).toMatch(/^tagbridge_device_missed_polls\{device="a",adapter="scripted"\} 0$/m);
    // Connected at once: no tick was skipped.
    expect(metrics).toMatch(/^tagbridge_device_skipped_polls\{device="a",adapter="scripted"\} 0$/m);

    // A removed device leaves no series behind; a rebuilt one counts from zero.
    blocked.close();
    newest.close();
    const changed = device("b", [{ id: "x" }, { id: "z" }]);
    await settle(gw.apply([changed]));
    expect(gw.device("b")!.counters.droppedReadings).toBe(0);
    const after = await gw.metrics.registry.metrics();
    expect(after).not.toMatch(/device="a"/);
    expect(after).not.toMatch(/tagbridge_device_dropped_readings_by_consumer\{/);
  });

  it("samples held while connecting that the device cannot keep are dropped readings", async () => {
    // One pushed point: held samples are bounded at 4 per point; 10 arrive during each start().
    const spec = device("h", [{ id: "pushed", description: "pushed" }]);
    const k = knobs.get("h")!;
    k.emitDuringStart = 10;
    k.failStarts = 1;
    const gw = start([spec]);
    // First start: 10 held, 6 evicted beyond the bound; it fails, and the 4 left are discarded.
    await vi.advanceTimersByTimeAsync(20);
    expect(gw.device("h")!.counters.droppedReadings).toBe(10);
    // Second start: 6 more evicted; the 4 kept are published once connected.
    await vi.advanceTimersByTimeAsync(100);
    const c = gw.device("h")!.counters;
    expect(gw.device("h")!.state).toBe("connected");
    expect(c.droppedReadings).toBe(16);
    expect(c.samples).toBe(4);
    expect(gw.bus.drops.list()).toEqual([{ device: "h", cause: "held", count: 16 }]);
  });
});
