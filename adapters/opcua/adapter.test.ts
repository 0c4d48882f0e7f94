import { DataValue } from "node-opcua-data-value";
import { StatusCodes } from "node-opcua-status-code";
import { DataType, Variant } from "node-opcua-variant";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTestContext, type FakeClock } from "../../src/sdk/testing.js";
import { createOpcua } from "./adapter.js";
import type {
  ConnectionEvents,
  OpcuaClientFactory,
  OpcuaConnection,
  SubscriptionListener,
  SubscriptionSpec,
} from "./client.js";
import opcuaAdapter from "./index.js";

/**
 * A fake seam: one connection whose subscriptions publish only when a test pushes, recording what
 * was asked. `refuse` maps node ids to the status their monitored item is refused with; `namespaces`
 * is the server's namespace array.
 */
function fake() {
  const subscribed: SubscriptionSpec[] = [];
  const closed: number[] = [];
  const written: Variant[] = [];
  const reads: string[][] = [];
  const refuse = new Map<string, string>();
  /** Set: reads fail with this error and the client says it is reconnecting. */
  let broken: Error | undefined;
  let reconnecting = false;
  const namespaces = ["http://opcfoundation.org/UA/", "urn:server"];
  let events: ConnectionEvents | undefined;
  const listeners: SubscriptionListener[] = [];
  /** Times of connect() calls; the next ones fail with these errors, in order. */
  const connects: number[] = [];
  const failConnects: Error[] = [];
  const conn: OpcuaConnection = {
    read: async (ids) => {
      reads.push([...ids]);
      if (broken) throw broken;
      return ids.map(() => new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }) }));
    },
    meta: async (ids) =>
      ids.map(() => ({ dataType: DataType.Int16, isArray: false, writable: true, unit: "bar" })),
    write: async (_id, v) => {
      written.push(v);
      return StatusCodes.Good;
    },
    browse: async () => [],
    namespaces: async () => [...namespaces],
    reconnecting: () => reconnecting,
    subscriptionLimits: async () => ({ itemsPerSubscription: 2 }),
    subscribe: async (spec, listener) => {
      const n = subscribed.push(spec);
      listeners.push(listener);
      return {
        keepAliveMs: () => 100,
        publishingIntervalMs: () => 10,
        results: spec.groups.map((g) => g.nodeIds.map((id) => refuse.get(id) ?? "Good")),
        close: async () => void closed.push(n),
      };
    },
    close: async () => undefined,
  };
  const factory: OpcuaClientFactory = {
    endpoints: async () => [
      { securityMode: 3, securityPolicyUri: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" },
    ],
    connect: async (_o, e) => {
      connects.push(performance.now());
      const fail = failConnects.shift();
      if (fail) throw fail;
      events = e;
      return conn;
    },
  };
  return {
    factory,
    connects,
    failConnects,
    subscribed,
    closed,
    written,
    reads,
    refuse,
    namespaces,
    listeners,
    events: () => events!,
    breakReads: (err: Error | undefined, whileReconnecting = err !== undefined) => {
      broken = err;
      reconnecting = whileReconnecting;
    },
    push: (g: number, i: number, dv: DataValue, sub = 0) => listeners[sub]!.data(g, i, dv),
  };
}

const points = [
  { id: "a", type: "float64", address: "ns=1;s=a" },
  { id: "b", type: "float64", address: "ns=1;s=b" },
  { id: "c", type: "float64", address: "ns=1;s=c", samplingIntervalMs: 10 },
  { id: "w", type: "int16", address: "ns=1;s=w", access: "readwrite", mode: "poll" },
];

function setup(
  list: unknown[] = points,
  prepare: (f: ReturnType<typeof fake>) => void = () => {},
  reconnect?: { minMs: number; maxMs: number },
) {
  const f = fake();
  prepare(f);
  const tc = createTestContext(opcuaAdapter, {
    settings: { endpointUrl: "opc.tcp://127.0.0.1:1", publishingIntervalMs: 100 },
    points: list,
    ...(reconnect ? { reconnect } : {}),
  });
  return { ...f, tc, clock: tc.clock as FakeClock, adapter: createOpcua(tc.ctx, f.factory) };
}

/**
 * Two clocks, both the test's: `ctx.clock` (a FakeClock, moved by hand) is what the watchdog
 * measures silence with; the fake timers run the watchdog's ticks (every 100 ms here), the
 * reconnect backoff and the adapter's timeouts, and `performance.now()` follows them.
 */
beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Watchdog period with publishingIntervalMs 100: max(100, min(100, 1000)). */
const TICK = 100;

/** Moves the fake timers 1 ms at a time until `check` holds (3 s of fake time at most). */
async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 3000; i++) {
    if (check()) return;
    await vi.advanceTimersByTimeAsync(1);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dv = (value: number) => new DataValue({ value: new Variant({ dataType: DataType.Double, value }) });

describe("opcua adapter over a fake client", () => {
  it("spreads items over subscriptions within the server's limit", async () => {
    const s = setup();
    await s.adapter.start();
    expect(s.subscribed.map((x) => x.groups.map((g) => g.nodeIds))).toEqual([
      [["ns=1;s=a", "ns=1;s=b"]],
      [["ns=1;s=c"]],
    ]);
    await s.adapter.stop();
  });

  it("maps connection events to states and counts reconnects", async () => {
    const s = setup();
    await s.adapter.start();
    s.events().lost("connection lost");
    s.events().restored();
    expect(s.tc.states).toEqual([
      { state: "disconnected", reason: "connection lost" },
      { state: "connected", reason: undefined },
    ]);
    expect(s.tc.metrics.counters.get("opcua_reconnects")).toBe(1);
    await s.adapter.stop();
  });

  it("after a lost connection, connects again once per backoff step; a refusal is reported once per change of reason", async () => {
    const s = setup(points, () => {}, { minMs: 20, maxMs: 40 });
    await s.adapter.start();
    const refused = new Error("BadCertificateUntrusted: server certificate ab12 is not trusted");
    s.failConnects.push(new Error("connect ECONNREFUSED"), refused, refused, refused);
    const lostAt = performance.now();
    s.events().lost("connection lost");
    await until(() => s.tc.states.at(-1)?.state === "connected", "connected again");
    const attempts = s.connects.slice(1);
    expect(attempts).toHaveLength(5);
    const gaps = [attempts[0]! - lostAt, ...attempts.slice(1).map((t, i) => t - attempts[i]!)];
    expect(gaps).toEqual([20, 40, 40, 40, 40]);
    expect(s.tc.states).toEqual([
      { state: "disconnected", reason: "connection lost" },
      { state: "disconnected", reason: "reconnect failed: connect ECONNREFUSED" },
      { state: "disconnected", reason: `reconnect failed: ${refused.message}` },
      { state: "connected", reason: undefined },
    ]);
    expect(s.tc.metrics.counters.get("opcua_reconnects")).toBe(1);
    // The new connection's subscriptions are created anew.
    await until(() => s.subscribed.length === 4, "subscriptions recreated");
    await s.adapter.stop();
  });

  it("stop() ends a reconnection at once, with no further attempt", async () => {
    const s = setup(points, () => {}, { minMs: 60_000, maxMs: 60_000 });
    await s.adapter.start();
    s.events().lost("connection lost");
    let stopped = false;
    void s.adapter.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0); // no time passes: the 60 s pause is not waited for
    expect(stopped).toBe(true);
    expect(vi.getTimerCount()).toBe(0); // the reconnection's pause ended with it
    await vi.advanceTimersByTimeAsync(120_000); // two backoff steps later, still no attempt
    expect(s.connects).toHaveLength(1);
  });

  it("recreates a subscription silent past its keep-alive, and counts it", async () => {
    const s = setup();
    await s.adapter.start();
    s.clock.advance(300); // watchdogFactor (3) × keep-alive (100 ms): not past it yet
    await vi.advanceTimersByTimeAsync(TICK);
    expect(s.tc.metrics.counters.get("opcua_subscriptions_recreated")).toBe(0);
    s.clock.advance(1); // past it: the next tick recreates both
    await vi.advanceTimersByTimeAsync(TICK);
    expect(s.tc.metrics.counters.get("opcua_subscriptions_recreated")).toBe(2);
    expect(s.closed.slice(0, 2).sort()).toEqual([1, 2]);
    expect(s.subscribed).toHaveLength(4);
    await s.adapter.stop();
  });

  it("a refused monitored item makes only its point bad, with the server's status name", async () => {
    const s = setup(points, (f) => {
      f.refuse.set("ns=1;s=b", "BadNodeIdUnknown");
      f.refuse.set("ns=1;s=c", "BadAttributeIdInvalid");
    });
    await s.adapter.start();
    expect(s.tc.emitted).toEqual([
      { point: "b", value: null, quality: "bad", status: "BadNodeIdUnknown" },
      { point: "c", value: null, quality: "bad", status: "BadAttributeIdInvalid" },
    ]);
    s.push(0, 0, dv(7));
    expect(s.tc.emitted.at(-1)).toMatchObject({ point: "a", value: 7, quality: "good" });
    expect(s.tc.states).toEqual([]); // the device itself stays up; the core shows it degraded
    await s.adapter.stop();
  });

  it("resolves nsu= node ids against the namespace array on each connect", async () => {
    const list = [
      { id: "x", type: "float64", address: "nsu=urn:a;s=x" },
      { id: "y", type: "float64", address: "nsu=urn:b;i=7" },
      { id: "u", type: "float64", address: "nsu=urn:gone;s=u" },
      { id: "z", type: "float64", address: "nsu=urn:gone;s=z", mode: "poll" },
      { id: "w", type: "float64", address: "nsu=urn:b;s=w", mode: "poll", access: "readwrite" },
    ];
    const s = setup(list, (f) => f.namespaces.push("urn:a", "urn:b"));
    await s.adapter.start();
    expect(s.subscribed.map((x) => x.groups[0]?.nodeIds)).toEqual([["ns=2;s=x", "ns=3;i=7"]]);
    expect(s.tc.emitted).toEqual([{ point: "u", value: null, quality: "bad", status: "BadNodeIdUnknown" }]);
    const polled = s.tc.ctx.points.filter((p) => p.mode === "poll");
    const read = await s.adapter.read(polled);
    expect(read).toEqual([
      { point: "z", value: null, quality: "bad", status: "BadNodeIdUnknown" },
      { point: "w", value: 1, quality: "good", unit: "bar" },
    ]);
    expect(s.reads).toEqual([["ns=3;s=w"]]);

    // The server comes back with its namespaces in another order.
    s.events().lost("connection lost");
    s.namespaces.splice(2, 2, "urn:b", "urn:a");
    s.events().restored();
    await until(() => s.subscribed.length === 2, "subscriptions created again");
    expect(s.subscribed[1]?.groups[0]?.nodeIds).toEqual(["ns=3;s=x", "ns=2;i=7"]);
    expect(s.closed).toEqual([1]);
    await s.adapter.read(polled);
    expect(s.reads.at(-1)).toEqual(["ns=2;s=w"]);
    await s.adapter.write(polled[1]!, 3);
    // What the old subscription still delivers is ignored; the new one's values count.
    const before = s.tc.emitted.length;
    s.push(0, 0, dv(5), 0);
    expect(s.tc.emitted).toHaveLength(before);
    s.push(0, 0, dv(6), 1);
    expect(s.tc.emitted.at(-1)).toMatchObject({ point: "x", value: 6 });
    await s.adapter.stop();
  });

  it("marks the points stale when keep-alives stop, and re-reads them when they resume", async () => {
    const s = setup(points.slice(0, 2));
    await s.adapter.start();
    s.clock.advance(140); // inside the window: keep-alive 100 ms + max(10, 50) ms of slack
    await vi.advanceTimersByTimeAsync(2 * TICK); // two watchdog ticks that must not mark anything
    expect(s.tc.stale).toEqual([]);
    s.clock.advance(20);
    await vi.advanceTimersByTimeAsync(TICK); // the next tick marks them
    expect(s.tc.stale).toEqual([["a", "b"]]);
    expect(s.tc.metrics.counters.get("opcua_subscriptions_recreated")).toBe(0);
    s.listeners[0]!.alive();
    await until(() => s.tc.emitted.length === 2, "values re-read");
    expect(s.reads).toEqual([["ns=1;s=a", "ns=1;s=b"]]);
    expect(s.tc.emitted.map((x) => [x.point, x.quality])).toEqual([
      ["a", "good"],
      ["b", "good"],
    ]);
    expect(s.tc.stale).toHaveLength(1);
    await s.adapter.stop();
  });

  it("a subscription that ends makes its points stale at once and is created again", async () => {
    const s = setup(points.slice(0, 2));
    await s.adapter.start();
    s.listeners[0]!.ended("subscription status BadTimeout");
    expect(s.tc.stale).toEqual([["a", "b"]]);
    await until(() => s.subscribed.length === 2, "recreated");
    expect(s.tc.metrics.counters.get("opcua_subscriptions_recreated")).toBe(1);
    await s.adapter.stop();
  });

  it("stop clears the watchdog: nothing is marked stale after it", async () => {
    const s = setup(points.slice(0, 2));
    await s.adapter.start();
    await s.adapter.stop();
    expect(vi.getTimerCount()).toBe(0); // no watchdog (nor any other timer) left behind
    s.clock.advance(10_000);
    await vi.advanceTimersByTimeAsync(10 * TICK);
    expect(s.tc.stale).toEqual([]);
    expect(s.subscribed).toHaveLength(1);
  });

  it("reports every library reconnect as connected and subscribes anew each time", async () => {
    const s = setup(points.slice(0, 2));
    await s.adapter.start();
    for (let n = 1; n <= 5; n++) {
      s.events().lost("connection lost");
      s.events().restored();
      await until(() => s.subscribed.length === n + 1, `subscriptions after reconnect ${n}`);
    }
    expect(s.tc.states).toEqual(
      Array.from({ length: 5 }, () => [
        { state: "disconnected", reason: "connection lost" },
        { state: "connected", reason: undefined },
      ]).flat(),
    );
    expect(s.tc.metrics.counters.get("opcua_reconnects")).toBe(5);
    expect(s.closed).toEqual([1, 2, 3, 4, 5]);
    await s.adapter.stop();
  });

  it("reads during the library's reconnection report nothing instead of failing the device", async () => {
    const s = setup();
    await s.adapter.start();
    const w = s.tc.ctx.points.filter((p) => p.id === "w");
    // A read failing as the socket breaks, before node-opcua's connection_lost arrives.
    s.breakReads(new Error("socket has been disconnected by third party"));
    await expect(s.adapter.read(w)).resolves.toEqual([]);
    s.events().lost("connection lost");
    await expect(s.adapter.read(w)).resolves.toEqual([]);
    s.breakReads(undefined);
    s.events().restored();
    await expect(s.adapter.read(w)).resolves.toMatchObject([{ point: "w", value: 1, quality: "good" }]);
    // A read failing while the connection is up still throws: the core must know.
    s.breakReads(new Error("BadTooManyOperations"), false);
    await expect(s.adapter.read(w)).rejects.toThrow(/BadTooManyOperations/);
    await s.adapter.stop();
  });

  it("emits changes with unit and status, and nothing after stop", async () => {
    const s = setup();
    await s.adapter.start();
    s.push(
      0,
      1,
      new DataValue({
        value: new Variant({ dataType: DataType.Double, value: 3 }),
        statusCode: StatusCodes.UncertainInitialValue,
      }),
    );
    expect(s.tc.emitted).toEqual([
      { point: "b", value: 3, quality: "uncertain", status: "UncertainInitialValue", unit: "bar" },
    ]);
    await s.adapter.stop();
    s.push(0, 0, new DataValue({ value: new Variant({ dataType: DataType.Double, value: 4 }) }));
    expect(s.tc.emitted).toHaveLength(1);
  });

  it("coerces writes to the node's type", async () => {
    const s = setup();
    await s.adapter.start();
    const w = s.tc.ctx.points.find((p) => p.id === "w")!;
    await expect(s.adapter.write(w, "12")).resolves.toEqual({ status: "Good" });
    expect(s.written[0]).toMatchObject({ dataType: DataType.Int16, value: 12 });
    // Refused before sending, as WriteRefused (the API's 422), also for a bigint of an int64 point.
    await expect(s.adapter.write(w, 99999)).rejects.toMatchObject({
      name: "WriteRefused",
      reason: "InvalidValue",
    });
    await expect(s.adapter.write(w, 2n ** 40n)).rejects.toThrow(
      /cannot write "1099511627776" to a Int16 node/,
    );
    expect(s.written).toHaveLength(1);
    await s.adapter.stop();
  });

  it("fails start when no endpoint fits the requested security", async () => {
    const f = fake();
    const tc = createTestContext(opcuaAdapter, {
      settings: { endpointUrl: "opc.tcp://127.0.0.1:1", security: "none" },
      points,
    });
    await expect(createOpcua(tc.ctx, f.factory).start()).rejects.toThrow(
      /no endpoint with security mode None/,
    );
  });
});
