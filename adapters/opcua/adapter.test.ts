import { setTimeout as sleep } from "node:timers/promises";
import { DataValue } from "node-opcua-data-value";
import { StatusCodes } from "node-opcua-status-code";
import { DataType, Variant } from "node-opcua-variant";
import { describe, expect, it } from "vitest";
import { createTestContext } from "../../src/sdk/testing.js";
import { createOpcua } from "./adapter.js";
import type { ConnectionEvents, OpcuaClientFactory, OpcuaConnection, SubscriptionSpec } from "./client.js";
import opcuaAdapter from "./index.js";

/** A fake seam: one connection whose subscriptions never publish, recording what was asked. */
function fake() {
  const subscribed: SubscriptionSpec[] = [];
  const closed: number[] = [];
  const written: Variant[] = [];
  let events: ConnectionEvents | undefined;
  const pushes: ((g: number, i: number, dv: DataValue) => void)[] = [];
  const conn: OpcuaConnection = {
    read: async (ids) =>
      ids.map(() => new DataValue({ value: new Variant({ dataType: DataType.Double, value: 1 }) })),
    meta: async (ids) =>
      ids.map(() => ({ dataType: DataType.Int16, isArray: false, writable: true, unit: "bar" })),
    write: async (_id, v) => {
      written.push(v);
      return StatusCodes.Good;
    },
    browse: async () => [],
    subscriptionLimits: async () => ({ itemsPerSubscription: 2 }),
    subscribe: async (spec, onData) => {
      const n = subscribed.push(spec);
      pushes.push(onData);
      return { lastActivity: () => 0, keepAliveMs: () => 100, close: async () => void closed.push(n) };
    },
    close: async () => undefined,
  };
  const factory: OpcuaClientFactory = {
    endpoints: async () => [
      { securityMode: 3, securityPolicyUri: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" },
    ],
    connect: async (_o, e) => {
      events = e;
      return conn;
    },
  };
  return {
    factory,
    subscribed,
    closed,
    written,
    events: () => events!,
    push: (g: number, i: number, dv: DataValue) => pushes[0]!(g, i, dv),
  };
}

const points = [
  { id: "a", type: "float64", address: "ns=1;s=a" },
  { id: "b", type: "float64", address: "ns=1;s=b" },
  { id: "c", type: "float64", address: "ns=1;s=c", samplingIntervalMs: 10 },
  { id: "w", type: "int16", address: "ns=1;s=w", access: "readwrite", mode: "poll" },
];

function setup() {
  const f = fake();
  const tc = createTestContext(opcuaAdapter, {
    settings: { endpointUrl: "opc.tcp://127.0.0.1:1", publishingIntervalMs: 100 },
    points,
  });
  return { ...f, tc, adapter: createOpcua(tc.ctx, f.factory) };
}

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

  it("recreates a subscription silent past its keep-alive, and counts it", async () => {
    const s = setup();
    await s.adapter.start();
    for (let i = 0; i < 40 && (s.tc.metrics.counters.get("opcua_subscriptions_recreated") ?? 0) < 2; i++)
      await sleep(50);
    expect(s.tc.metrics.counters.get("opcua_subscriptions_recreated")).toBeGreaterThanOrEqual(2);
    expect(s.closed.slice(0, 2).sort()).toEqual([1, 2]);
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
    await expect(s.adapter.write(w, 99999)).rejects.toThrow(/Int16/);
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
