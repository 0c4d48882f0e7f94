import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import Type from "typebox";
import { describe, expect, it } from "vitest";
import { defineAdapter } from "./adapter.js";
import { createTestContext, FAKE_CLOCK_START, FakeClock, MemoryMetrics } from "./testing.js";

const definition = defineAdapter({
  type: "demo",
  description: "Demo adapter.",
  sdk: "^1.0.0",
  connectionSchema: Type.Object(
    {
      host: Type.String({ description: "Host name." }),
      port: Type.Optional(Type.Integer({ default: 502, description: "TCP port." })),
    },
    { additionalProperties: false },
  ),
  pointSchema: Type.Object(
    { register: Type.Integer({ minimum: 0, description: "Register number." }) },
    { additionalProperties: false },
  ),
  capabilities: ["read"],
  create: () => ({ start: async () => undefined, stop: async () => undefined, read: async () => [] }),
});

describe("createTestContext", () => {
  it("validates settings and points with defaults applied, without touching the inputs", () => {
    const settings = { host: "plc" };
    const points = [{ id: "p1", type: "int16", register: 3 }];
    const { ctx } = createTestContext(definition, { settings, points });
    expect(ctx.settings).toEqual({ host: "plc", port: 502 });
    expect(ctx.points).toEqual([
      { id: "p1", type: "int16", register: 3, access: "read", publish: "onChange" },
    ]);
    expect(settings).toEqual({ host: "plc" });
    expect(points[0]).toEqual({ id: "p1", type: "int16", register: 3 });
  });

  it("throws one error listing every problem with its path", () => {
    const points = [
      { id: "p1", type: "int16", register: -1 },
      { id: "p2", type: "int17", register: 1, colour: "red" },
      { id: "p1", type: "bool", register: 2 },
    ];
    const run = () => createTestContext(definition, { settings: { port: "x" }, points });
    expect(run).toThrow(/^invalid demo test configuration:/);
    const message = (() => {
      try {
        run();
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    })();
    for (const expected of [
      "settings: must have required properties host",
      "settings/port: must be integer",
      "points[0]/register: must be >= 0",
      "points[1]/type:",
      "points[1]/colour: unknown field",
      'points[2]/id: duplicate point id "p1"',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it("records emits and state changes, and names the device and gateway", () => {
    const tc = createTestContext(definition, {
      settings: { host: "h" },
      points: [],
      device: "d1",
      gateway: "g1",
    });
    tc.ctx.emit([{ point: "p1", value: 1 }]);
    tc.ctx.setState("degraded", "slow");
    expect(tc.emitted).toEqual([{ point: "p1", value: 1 }]);
    expect(tc.states).toEqual([{ state: "degraded", reason: "slow" }]);
    expect([tc.ctx.device, tc.ctx.gateway]).toEqual(["d1", "g1"]);
    expect(tc.ctx.log.level).toBe("silent");
  });

  it("gives a temp data directory path that does not exist yet, new for every context", () => {
    const a = createTestContext(definition, { settings: { host: "h" }, points: [] }).ctx.dataDir;
    const b = createTestContext(definition, { settings: { host: "h" }, points: [] }).ctx.dataDir;
    expect(a.startsWith(tmpdir())).toBe(true);
    expect(a).not.toBe(b);
    expect(existsSync(a)).toBe(false);
  });

  it("injects a settable fake clock by default, or the clock given", () => {
    const tc = createTestContext(definition, { settings: { host: "h" }, points: [] });
    expect(tc.ctx.clock.now()).toBe(FAKE_CLOCK_START);
    const clock = new FakeClock(1000);
    expect(createTestContext(definition, { settings: { host: "h" }, points: [], clock }).ctx.clock).toBe(
      clock,
    );
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(7);
    expect(clock.now()).toBe(7);
  });
});

describe("MemoryMetrics", () => {
  it("keeps counter totals and gauge values by name", () => {
    const m = new MemoryMetrics();
    const c = m.counter("frames_sent", "Frames sent.");
    c.inc();
    c.inc(4);
    m.counter("frames_sent", "again").inc();
    m.gauge("queue_depth", "Queue depth.").set(3);
    expect(m.counters.get("frames_sent")).toBe(6);
    expect(m.gauges.get("queue_depth")).toBe(3);
  });

  it("refuses names that are not snake_case", () => {
    expect(() => new MemoryMetrics().counter("framesSent", "x")).toThrow(/not snake_case/);
    expect(() => new MemoryMetrics().gauge("queue-depth", "x")).toThrow(/not snake_case/);
  });
});
