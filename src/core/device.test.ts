import pino from "pino";
import Type from "typebox";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Reading } from "../schema/reading.js";
import type { Adapter, AdapterContext, AdapterDefinition, Sample } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";
import type { DeviceSpec } from "./device.js";
import { Gateway } from "./gateway.js";
import { AdapterRegistry } from "./registry.js";

type P = PointConfig<Record<string, unknown>>;

/** Knobs a test turns on its scripted adapter instances (the seam the core talks to). */
interface Script {
  readMs?: number;
  failStarts?: number;
  failReads?: boolean;
  /** A constant value for every read (instead of a counter), with this sample address. */
  constant?: { value: number; address: string };
  log: string[];
  /** When each start() was called, and when each failing read threw (performance.now(), fake clock). */
  startedAt: number[];
  failedAt: number[];
  inFlight: number;
  maxInFlight: number;
  ctx?: AdapterContext<unknown, unknown>;
}
const scripts = new Map<string, Script>();

const scripted: AdapterDefinition = {
  type: "scripted",
  description: "test adapter driven by a script",
  sdk: "^1.0.0",
  connectionSchema: Type.Object({}),
  pointSchema: Type.Object({}),
  capabilities: ["read", "write"],
  polled: (p) => (p as P).description !== "pushed",
  create(ctx): Adapter {
    const s = scripts.get(ctx.device)!;
    s.ctx = ctx as AdapterContext<unknown, unknown>;
    let n = 0;
    return {
      async start() {
        s.log.push("start");
        s.startedAt.push(performance.now());
        if ((s.failStarts ?? 0) > 0) {
          s.failStarts!--;
          throw new Error("refused");
        }
      },
      async stop() {
        s.log.push("stop");
      },
      async read(points) {
        s.inFlight++;
        s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
        s.log.push(`read:${points.map((p) => p.id).join(",")}`);
        await new Promise((r) => setTimeout(r, s.readMs ?? 0));
        s.inFlight--;
        if (s.failReads) {
          s.failedAt.push(performance.now());
          throw new Error("link down");
        }
        n++;
        const c = s.constant;
        return points.map(
          (p): Sample =>
            p.id === "broken"
              ? { point: p.id, value: null, quality: "bad", status: "IllegalDataAddress" }
              : c
                ? { point: p.id, value: c.value, address: c.address }
                : { point: p.id, value: n },
        );
      },
      async write() {
        return {};
      },
    };
  },
};

/**
 * Time is the fake clock's: the poller, the reconnect backoff, stale detection, the scripted reads'
 * delays and the bus's drain all run on it, so nothing here waits for real time.
 */
const EPOCH = Date.UTC(2026, 0, 1, 8);
beforeEach(() => {
  vi.useFakeTimers({
    now: EPOCH,
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "clearImmediate",
      "performance",
      "Date",
    ],
  });
});

/** Moves the fake clock 1 ms at a time until `cond` holds; fails after `ms` of fake time. */
async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await vi.advanceTimersByTimeAsync(1);
  }
}

/** Moves the fake clock until `p` settles (a stop or apply that waits for a read in flight). */
async function settle<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  void p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await until(() => outcome !== undefined, ms);
  if (outcome && "error" in outcome) throw outcome.error;
  return (outcome as { value: T }).value;
}

function device(id: string, points: Partial<P>[], extra: Partial<DeviceSpec> = {}): DeviceSpec {
  scripts.set(id, { log: [], startedAt: [], failedAt: [], inFlight: 0, maxInFlight: 0 });
  return {
    id,
    type: "scripted",
    pollIntervalMs: 20,
    reconnect: { minMs: 20, maxMs: 80 },
    connection: {},
    points: points.map((p) => ({ type: "int32", publish: "always", ...p }) as P),
    ...extra,
  };
}

let gateway: Gateway | undefined;
function start(devices: DeviceSpec[]) {
  gateway = new Gateway({
    id: "gw",
    dataDir: "/tmp/tagbridge-test",
    devices,
    registry: new AdapterRegistry([scripted]),
    log: pino({ level: "silent" }),
  });
  const seen: Reading[] = [];
  gateway.bus.subscribe({ name: "t", handle: (b) => void seen.push(...b) });
  gateway.start();
  return { gw: gateway, seen };
}
afterEach(async () => {
  if (gateway) await settle(gateway.stop());
  gateway = undefined;
  vi.useRealTimers();
});

describe("device runtime", () => {
  it("polls each interval group, never overlapping reads of one device, and counts overruns", async () => {
    const { gw } = start([
      device("d", [{ id: "fast" }, { id: "slow", pollIntervalMs: 60 }], { pollIntervalMs: 10 }),
    ]);
    scripts.get("d")!.readMs = 15; // slower than the 10 ms interval: overruns must be skipped, not stacked
    await until(() => gw.device("d")!.counters.reads >= 12);
    const s = scripts.get("d")!;
    expect(s.maxInFlight).toBe(1);
    expect(s.log).toContain("read:fast");
    expect(s.log).toContain("read:slow");
    expect(gw.device("d")!.counters.overruns).toBeGreaterThan(0);
    expect(gw.device("d")!.state).toBe("connected");
  });

  it("a slow device does not delay another", async () => {
    const { gw } = start([device("slow", [{ id: "x" }]), device("quick", [{ id: "x" }])]);
    scripts.get("slow")!.readMs = 1000;
    await until(() => gw.device("quick")!.counters.reads >= 10);
    expect(gw.device("slow")!.counters.reads).toBe(0);
  });

  it("retries a refused connect with backoff, publishing each point bad/Disconnected once", async () => {
    const spec = device("d", [{ id: "a" }, { id: "b" }]);
    scripts.get("d")!.failStarts = 3;
    const { gw, seen } = start([spec]);
    await until(() => gw.device("d")!.counters.reads >= 1);
    const bad = seen.filter((r) => r.status === "Disconnected");
    expect(bad.map((r) => r.point).sort()).toEqual(["a", "b"]);
    expect(bad.every((r) => r.quality === "bad" && r.value === null)).toBe(true);
    expect(scripts.get("d")!.log.filter((l) => l === "start")).toHaveLength(4);
    expect(gw.device("d")!.state).toBe("connected");
    expect(gw.ready()).toBe(true);
  });

  it("a read that fails connection-wide disconnects, marks points bad once and reconnects", async () => {
    const { gw, seen } = start([device("d", [{ id: "a" }])]);
    await until(() => gw.device("d")!.counters.reads >= 2);
    const s = scripts.get("d")!;
    s.failReads = true;
    await until(() => gw.device("d")!.state === "disconnected");
    await vi.advanceTimersByTimeAsync(250);
    // Reconnected four times in those 250 ms, each read failing again, and still one bad reading.
    expect(seen.filter((r) => r.status === "Disconnected")).toHaveLength(1);
    expect(gw.device("d")!.stateReason).toMatch(/link down/);
    // Each restart waits the backoff after the read that failed: minMs, doubling, capped at maxMs.
    const restarts = s.startedAt.slice(1);
    const waited = restarts.map((t) => t - Math.max(...s.failedAt.filter((f) => f <= t)));
    expect(waited).toEqual([20, 40, 80, 80]);
    s.failReads = false;
    await until(() => gw.device("d")!.state === "connected" && seen.at(-1)?.quality === "good");
    expect(gw.device("d")!.counters.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("an adapter-reported disconnect marks points bad without restarting the adapter", async () => {
    const { gw, seen } = start([device("d", [{ id: "p", description: "pushed" }])]);
    await until(() => gw.device("d")!.state === "connected");
    const ctx = scripts.get("d")!.ctx!;
    ctx.emit([{ point: "p", value: 7 }]);
    ctx.setState("disconnected", "session lost");
    await until(() => seen.some((r) => r.status === "Disconnected"));
    expect(gw.device("d")!).toMatchObject({ state: "disconnected", stateReason: "session lost" });
    expect(scripts.get("d")!.log.filter((l) => l === "start")).toHaveLength(1);
    ctx.setState("connected");
    ctx.emit([{ point: "p", value: 8 }]);
    await until(() => seen.at(-1)?.value === 8);
    expect(gw.device("d")!.state).toBe("connected");
  });

  it("no polls while the adapter reports disconnected (its library reconnects), polls again once connected", async () => {
    const { gw } = start([device("d", [{ id: "x" }])]);
    await until(() => gw.device("d")!.counters.reads >= 2);
    const s = scripts.get("d")!;
    const ctx = s.ctx!;
    ctx.setState("disconnected", "library reconnecting");
    const reads = () => s.log.filter((l) => l.startsWith("read:")).length;
    const before = reads(); // the last read finished: none is queued at this instant
    await vi.advanceTimersByTimeAsync(100); // five poll intervals of fake time: the absence is proved at once
    expect(reads()).toBe(before);
    expect(s.log.filter((l) => l === "start")).toHaveLength(1); // not restarted by the core
    ctx.setState("connected");
    await until(() => reads() > before + 1);
  });

  it("a bad point makes the device degraded", async () => {
    const { gw } = start([device("d", [{ id: "ok" }, { id: "broken" }])]);
    await until(() => gw.device("d")!.counters.reads >= 1);
    expect(gw.device("d")!.state).toBe("degraded");
    expect(gw.points("d")!.find((p) => p.id === "broken")!.latest).toMatchObject({
      quality: "bad",
      status: "IllegalDataAddress",
    });
  });

  it("publishes nothing after stop resolves, and stop is idempotent", async () => {
    const { gw, seen } = start([device("d", [{ id: "p", description: "pushed" }, { id: "q" }])]);
    await until(() => gw.device("d")!.counters.reads >= 2);
    const ctx = scripts.get("d")!.ctx!;
    await settle(gw.stop());
    await settle(gw.stop());
    const published = gw.device("d")!.counters.readings;
    await vi.advanceTimersByTimeAsync(20); // the test's own bus consumer drains what was published before
    const n = seen.length;
    expect(n).toBe(published);
    ctx.emit([{ point: "p", value: 1 }]);
    await vi.advanceTimersByTimeAsync(60); // three poll intervals, and the bus's drain
    expect(seen.length).toBe(n);
    expect(gw.device("d")!.counters.readings).toBe(published);
    expect(gw.device("d")!.state).toBe("stopped");
  });

  it("apply restarts only changed devices and starts added ones", async () => {
    const a = device("a", [{ id: "x" }]);
    const b = device("b", [{ id: "x" }]);
    const { gw } = start([a, b]);
    await until(() => gw.device("a")!.counters.reads >= 1 && gw.device("b")!.counters.reads >= 1);
    const b2 = { ...b, pollIntervalMs: 30 };
    const c = device("c", [{ id: "y" }]);
    scripts.set("b", { log: [], startedAt: [], failedAt: [], inFlight: 0, maxInFlight: 0 });
    const result = await settle(gw.apply([structuredClone(a), b2, c]));
    expect(result).toEqual({ added: ["c"], removed: [], changed: ["b"], unchanged: ["a"] });
    expect(scripts.get("a")!.log.filter((l) => l === "stop")).toHaveLength(0);
    await until(() => gw.device("c")!.counters.reads >= 1 && gw.device("b")!.counters.reads >= 1);
    const removal = await settle(gw.apply([structuredClone(a)]));
    expect(removal.removed.sort()).toEqual(["b", "c"]);
    expect(gw.devices().map((d) => d.id)).toEqual(["a"]);
    expect(gw.bus.latest({ devices: ["c"] })).toEqual([]);
  });

  it("a removed device leaves no metric series behind", async () => {
    const a = device("a", [{ id: "x" }, { id: "broken" }]);
    const b = device("b", [{ id: "x" }]);
    const { gw } = start([a, b]);
    scripts.get("a")!.ctx!.metrics.counter("widgets", "Widgets.").inc();
    await until(() => gw.device("a")!.counters.reads >= 1 && gw.device("b")!.counters.reads >= 1);
    const series = async (device: string) =>
      (await gw.metrics.registry.metrics())
        .split("\n")
        .filter((l) => !l.startsWith("#") && l.includes(`device="${device}"`));
    const before = await series("a");
    for (const name of [
      "tagbridge_adapter_widgets_total",
      "tagbridge_device_read_seconds_count",
      "bad_samples_by_status",
    ])
      expect(
        before.some((l) => l.includes(name)),
        name,
      ).toBe(true);
    await settle(gw.apply([structuredClone(b)]));
    expect(await series("a")).toEqual([]);
    expect((await series("b")).length).toBeGreaterThan(0);
  });

  it("refuses writes to read-only points and to disconnected devices", async () => {
    const spec = device("d", [{ id: "ro" }, { id: "rw", access: "readwrite" }]);
    scripts.get("d")!.failStarts = 1000;
    const { gw } = start([spec]);
    await until(() => gw.device("d")!.state === "disconnected");
    await expect(gw.write("d", "ro", 1)).rejects.toMatchObject({ reason: "NotWritable" });
    await expect(gw.write("d", "rw", 1)).rejects.toMatchObject({ reason: "NotConnected" });
    await expect(gw.write("d", "nope", 1)).rejects.toMatchObject({ reason: "UnknownPoint" });
  });

  // Regression (issue 14): only the first outage was visible, and recovery waited for a change,
  // when samples carry an address other than the configured one (Modbus shorthand, simulator).
  it("five outages in a row: every one shows bad/Disconnected, every recovery good, unchanged values", async () => {
    const spec = device("d", [
      { id: "a", address: "hr:40001:float32:ABCD", publish: "onChange" },
      { id: "b", publish: "onChange" },
    ]);
    scripts.get("d")!.constant = { value: 42, address: "hr:0" };
    const { gw } = start([spec]);
    const s = scripts.get("d")!;
    const latest = () => gw.points("d")!.map((p) => `${p.latest?.quality}/${p.latest?.status ?? ""}`);
    for (let outage = 0; outage < 5; outage++) {
      await until(() => gw.device("d")!.state === "connected" && latest().every((q) => q === "good/"));
      s.failReads = true;
      await until(() => gw.device("d")!.state === "disconnected");
      expect(latest()).toEqual(["bad/Disconnected", "bad/Disconnected"]);
      expect(gw.device("d")!.stateReason).toMatch(/link down/);
      s.failReads = false;
    }
    await until(() => gw.device("d")!.state === "connected" && latest().every((q) => q === "good/"));
    expect(gw.points("d")!.map((p) => p.latest?.value)).toEqual([42, 42]);
    expect(gw.device("d")!.counters.reconnects).toBeGreaterThanOrEqual(5);
  });

  it("samples pushed while the device is not connected are held and published once it is", async () => {
    const { gw } = start([device("d", [{ id: "p", description: "pushed" }])]);
    await until(() => gw.device("d")!.state === "connected");
    const ctx = scripts.get("d")!.ctx!;
    ctx.emit([{ point: "p", value: 1 }]);
    ctx.setState("disconnected", "session lost");
    const published = gw.device("d")!.counters.readings; // publishing is synchronous
    ctx.emit([{ point: "p", value: 2 }]); // a library delivering during its own reconnect
    ctx.emit([{ point: "p", value: 3 }]);
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "bad", status: "Disconnected" });
    expect(gw.device("d")!.counters.readings).toBe(published);
    ctx.setState("connected");
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "good", value: 3 });
    expect(gw.device("d")!.counters.reconnects).toBe(1); // counted although the library reconnected
  });

  it("a polled point whose reads stop delivering turns uncertain/Stale, and good with the next value", async () => {
    const spec = device("d", [{ id: "x", publish: "onChange", staleAfterMs: 60 }]);
    const { gw } = start([spec]);
    const s = scripts.get("d")!;
    await until(() => gw.bus.latestOf("d", "x")?.quality === "good");
    const before = gw.bus.latestOf("d", "x")!;
    s.readMs = 400; // the read hangs: ticks overrun, nothing is delivered
    await until(() => gw.bus.latestOf("d", "x")?.status === "Stale", 2000);
    expect(gw.bus.latestOf("d", "x")).toMatchObject({ quality: "uncertain", value: expect.any(Number) });
    expect(gw.bus.latestOf("d", "x")!.ts >= before.ts).toBe(true);
    expect(gw.device("d")!).toMatchObject({
      state: "degraded",
      stateReason: "1 of 1 points not good (Stale)",
    });
    expect(gw.device("d")!.counters.staleMarks).toBe(1);
    s.readMs = 0;
    await until(() => gw.bus.latestOf("d", "x")?.quality === "good", 2000);
    expect(gw.device("d")!.state).toBe("connected");
  });

  it("a pushed point with no value since the reconnect is uncertain/WaitingForData, not Disconnected", async () => {
    const { gw } = start([device("d", [{ id: "p", description: "pushed" }, { id: "q" }])]);
    await until(() => gw.device("d")!.state === "connected");
    const ctx = scripts.get("d")!.ctx!;
    ctx.emit([{ point: "p", value: 1 }]);
    ctx.setState("disconnected", "broker gone");
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "bad", status: "Disconnected" });
    ctx.setState("connected");
    expect(gw.bus.latestOf("d", "p")).toMatchObject({
      quality: "uncertain",
      status: "WaitingForData",
      value: null,
    });
    expect(gw.device("d")!.stateReason).toMatch(/WaitingForData/);
    ctx.emit([{ point: "p", value: 1 }]);
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "good", value: 1 });
  });

  it("ctx.markStale marks pushed points uncertain/Stale while connected", async () => {
    const { gw } = start([device("d", [{ id: "p", description: "pushed" }, { id: "q" }])]);
    await until(() => gw.device("d")!.state === "connected");
    const ctx = scripts.get("d")!.ctx!;
    ctx.emit([{ point: "p", value: 5 }]);
    ctx.markStale();
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "uncertain", status: "Stale", value: 5 });
    ctx.emit([{ point: "p", value: 5 }]);
    expect(gw.bus.latestOf("d", "p")).toMatchObject({ quality: "good", value: 5 });
  });

  it("every state but connected carries a reason", async () => {
    const spec = device("d", [{ id: "x" }]);
    scripts.get("d")!.failStarts = 1000;
    const { gw } = start([spec, device("off", [{ id: "x" }], { enabled: false })]);
    await until(() => gw.device("d")!.state === "disconnected");
    expect(gw.device("d")!.stateReason).toMatch(/connect failed: refused/);
    expect(gw.device("off")!).toMatchObject({ state: "stopped", stateReason: "disabled (enabled: false)" });
  });
});
