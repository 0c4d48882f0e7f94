import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { adapterConformance } from "../../src/sdk/conformance.js";
import { WriteRefused } from "../../src/sdk/index.js";
import { createTestContext, FakeClock } from "../../src/sdk/testing.js";
import { createSimulator, type SimulatorPoint } from "./adapter.js";
import simulatorAdapter from "./index.js";

const points = [
  {
    id: "temp",
    type: "float64",
    unit: "°C",
    generator: { kind: "sine", amplitude: 5, offset: 20, noise: 0.1 },
  },
  { id: "level", type: "int16", generator: { kind: "ramp", min: 0, max: 1000 } },
  { id: "pressure", type: "float32", generator: { kind: "randomWalk", step: 0.5, min: 0, max: 10 } },
  { id: "running", type: "bool", access: "readwrite", generator: { kind: "square", periodMs: 10_000 } },
  { id: "parts", type: "uint32", access: "readwrite", generator: { kind: "counter", wrap: 9999 } },
  {
    id: "setpoint",
    type: "float32",
    access: "readwrite",
    generator: { kind: "sine", amplitude: 2, offset: 50 },
  },
  { id: "recipe", type: "string", access: "readwrite", generator: { kind: "constant", value: "A-100" } },
];
const faultyPoints = [
  { id: "broken", type: "float64", generator: { kind: "fault" } },
  { id: "mismatch", type: "string", generator: { kind: "sine" } },
];

describe("simulator conformance", () => {
  const writeValue = (p: SimulatorPoint) => (p.type === "bool" ? true : p.type === "string" ? "B-200" : 42);
  for (const c of adapterConformance(simulatorAdapter, {
    settings: { seed: 3 },
    points,
    faultyPoints,
    writeValue,
  })) {
    it(c.name, c.run);
  }
});

const OUTAGE = { everyMs: 10_000, durationMs: 2_000 };

function simulator(settings: unknown, pts: unknown[] = points) {
  const clock = new FakeClock(1_000_000);
  const tc = createTestContext(simulatorAdapter, { settings, points: pts, clock });
  const adapter = createSimulator(tc.ctx);
  const point = (id: string) => tc.ctx.points.find((p) => p.id === id)!;
  return { ...tc, clock, adapter, point };
}

describe("adapter lifecycle and samples", () => {
  it("puts sim:<kind> as address and the device time as sourceTs on each sample", async () => {
    const s = simulator({});
    await s.adapter.start();
    const [temp, broken] = await s.adapter.read([s.point("temp"), s.point("parts")]);
    expect(temp).toMatchObject({ point: "temp", quality: "good", address: "sim:sine", sourceTs: 1_000_000 });
    expect(broken).toEqual({
      point: "parts",
      value: 0,
      quality: "good",
      address: "sim:counter",
      sourceTs: 1_000_000,
    });
  });

  it("reads bad samples for faults and type mismatches, with their status", async () => {
    const s = simulator({}, faultyPoints);
    await s.adapter.start();
    const samples = await s.adapter.read(s.ctx.points);
    expect(samples.map((x) => [x.point, x.quality, x.value, x.status])).toEqual([
      ["broken", "bad", null, "SensorFault"],
      ["mismatch", "bad", null, "TypeMismatch"],
    ]);
  });

  it("refuses reads before start and after stop, and starts again after stop", async () => {
    const s = simulator({});
    await expect(s.adapter.read(s.ctx.points)).rejects.toThrow(/not connected/);
    await s.adapter.start();
    await s.adapter.stop();
    await expect(s.adapter.read(s.ctx.points)).rejects.toThrow(/stopped/);
    await s.adapter.start();
    await expect(s.adapter.read(s.ctx.points)).resolves.toHaveLength(points.length);
  });

  it("fails start and reads during an outage, and needs a new start after one", async () => {
    const s = simulator({ outage: OUTAGE });
    s.clock.set(20_000 + 500);
    await expect(s.adapter.start()).rejects.toThrow("simulated outage");
    s.clock.set(20_000 + 2_000);
    await s.adapter.start();
    await expect(s.adapter.read(s.ctx.points)).resolves.toHaveLength(points.length);
    s.clock.set(30_000 + 1_999);
    await expect(s.adapter.read(s.ctx.points)).rejects.toThrow("simulated outage");
    s.clock.set(30_000 + 2_000);
    await expect(s.adapter.read(s.ctx.points)).rejects.toThrow(/not connected/);
    await s.adapter.start();
    await expect(s.adapter.read(s.ctx.points)).resolves.toHaveLength(points.length);
    expect(s.metrics.counters.get("simulator_outages")).toBe(1);
  });

  it("delays start by startDelayMs, and a stop during the delay makes start reject", async () => {
    const s = simulator({ startDelayMs: 60 });
    const t0 = performance.now();
    await s.adapter.start();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    const slow = simulator({ startDelayMs: 10_000 });
    const starting = slow.adapter.start();
    await slow.adapter.stop();
    await expect(starting).rejects.toThrow(/stopped while starting/);
  });

  it("applies schema defaults and rejects unknown fields", () => {
    expect(simulator({}).ctx.settings).toEqual({ seed: 1, startDelayMs: 0 });
    expect(() => simulator({ seed: 1.5 })).toThrow(/settings\/seed/);
    const bad = [{ id: "x", type: "float64", generator: { kind: "sine", perodMs: 5 } }];
    expect(() => simulator({}, bad)).toThrow(/points\[0\]\/generator/);
  });
});

describe("writes", () => {
  async function started() {
    const s = simulator({ seed: 5 });
    await s.adapter.start();
    const read1 = async (id: string) => (await s.adapter.read([s.point(id)]))[0]!.value;
    return { ...s, read1 };
  }

  it("counters continue from the written value", async () => {
    const s = await started();
    expect(await s.read1("parts")).toBe(0);
    await expect(s.adapter.write(s.point("parts"), 500)).resolves.toEqual({});
    expect([await s.read1("parts"), await s.read1("parts")]).toEqual([500, 501]);
    expect(s.metrics.counters.get("simulator_writes")).toBe(1);
  });

  it("periodic and constant generators hold the written value", async () => {
    const s = await started();
    await s.adapter.write(s.point("setpoint"), 12.5);
    await s.adapter.write(s.point("recipe"), "B-7");
    await s.adapter.write(s.point("running"), true);
    s.clock.advance(123_456);
    expect([await s.read1("setpoint"), await s.read1("recipe"), await s.read1("running")]).toEqual([
      12.5,
      "B-7",
      true,
    ]);
  });

  it("random walks continue from the written value", async () => {
    const pts = [
      {
        id: "w",
        type: "float64",
        access: "readwrite",
        generator: { kind: "randomWalk", step: 1, max: 1000 },
      },
    ];
    const s = simulator({}, pts);
    await s.adapter.start();
    await s.adapter.write(s.point("w"), 700);
    const [a, b] = [
      (await s.adapter.read(s.ctx.points))[0]!.value,
      (await s.adapter.read(s.ctx.points))[0]!.value,
    ];
    expect(a).toBe(700);
    expect(Math.abs((b as number) - 700)).toBeLessThanOrEqual(1);
  });

  it.each<[string, unknown, RegExp]>([
    ["parts", 3.5, /parts is uint32: cannot write 3.5/],
    ["parts", -1, /cannot write -1/],
    ["parts", "12", /cannot write "12"/],
    ["running", "yes", /running is bool: cannot write "yes"/],
    ["recipe", 1, /recipe is string: cannot write 1/],
    ["setpoint", 1e39, /float32: cannot write/],
    ["setpoint", null, /cannot write null/],
  ])(
    "refuses writing %s = %j as a value it cannot hold (WriteRefused InvalidValue)",
    async (id, value, message) => {
      const s = await started();
      const err = await s.adapter.write(s.point(id), value).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteRefused);
      expect(err).toMatchObject({ reason: "InvalidValue", message: expect.stringMatching(message) });
      expect(s.metrics.counters.get("simulator_writes")).toBe(0);
    },
  );

  it("writes int64 and uint64 handed over as bigint (as the core does), beyond 2^53 too", async () => {
    const wide = [
      { id: "i", type: "int64", access: "readwrite", generator: { kind: "constant", value: 0 } },
      { id: "u", type: "uint64", access: "readwrite", generator: { kind: "constant", value: 0 } },
      { id: "n", type: "int64", access: "readwrite", generator: { kind: "counter" } },
    ];
    const s = simulator({}, wide);
    await s.adapter.start();
    await s.adapter.write(s.point("i"), -9223372036854775808n);
    await s.adapter.write(s.point("u"), 18446744073709551615n);
    await s.adapter.write(s.point("n"), 41n);
    const read = async () => (await s.adapter.read(s.ctx.points)).map((x) => x.value);
    expect(await read()).toEqual(["-9223372036854775808", "18446744073709551615", 41]);
    expect(await read()).toEqual(["-9223372036854775808", "18446744073709551615", 42]);
    const err = await s.adapter.write(s.point("u"), -1n).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "InvalidValue", message: "point u is uint64: cannot hold -1" });
  });

  it("refuses writes to read-only, faulty and mismatched points, and when not running", async () => {
    const rw = (p: (typeof faultyPoints)[number]) => ({ ...p, access: "readwrite" });
    const s = simulator({}, [...points, ...faultyPoints.map(rw)]);
    await expect(s.adapter.write(s.point("parts"), 1)).rejects.toThrow(/not connected/);
    await s.adapter.start();
    await expect(s.adapter.write(s.point("temp"), 1)).rejects.toThrow(/temp is read-only/);
    await expect(s.adapter.write(s.point("broken"), 1)).rejects.toThrow(/failing sensor/);
    await expect(s.adapter.write(s.point("mismatch"), "x")).rejects.toThrow(/TypeMismatch/);
  });

  it("takes only numbers on a json counter, which continues from them", async () => {
    const s = simulator({}, [{ id: "j", type: "json", access: "readwrite", generator: { kind: "counter" } }]);
    await s.adapter.start();
    await expect(s.adapter.write(s.point("j"), "ten")).rejects.toThrow(/continues from a number, not "ten"/);
    await s.adapter.write(s.point("j"), 10);
    expect((await s.adapter.read(s.ctx.points))[0]!.value).toBe(10);
  });

  it("fails writes during an outage", async () => {
    const s = simulator({ outage: OUTAGE });
    s.clock.set(5_000);
    await s.adapter.start();
    s.clock.set(10_000);
    await expect(s.adapter.write(s.point("parts"), 1)).rejects.toThrow("simulated outage");
  });
});

describe("example.yaml", () => {
  it("is a gateway config whose simulator devices validate, showing every generator", () => {
    const config = parse(readFileSync(join(import.meta.dirname, "example.yaml"), "utf8"));
    expect(config).toMatchObject({ version: 1, gateway: "sim-gw" });
    const kinds = new Set<string>();
    for (const device of config.devices) {
      expect(device.type).toBe("simulator");
      const tc = createTestContext(simulatorAdapter, { settings: device.connection, points: device.points });
      for (const p of tc.ctx.points) kinds.add(p.generator.kind);
    }
    expect([...kinds].sort()).toEqual([
      "constant",
      "counter",
      "fault",
      "ramp",
      "randomWalk",
      "sine",
      "square",
    ]);
  });
});
