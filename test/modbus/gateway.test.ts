/**
 * The Modbus adapter through the core and the SDK kit: the example and demo configs validate, the
 * conformance kit passes against modbus-serial's ServerTCP, a gateway publishes readings from the
 * simulator, and a device goes disconnected when its server stops and connected when it returns.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import modbusAdapter from "../../adapters/modbus/index.js";
import type { ModbusPoint } from "../../adapters/modbus/points.js";
import { startModbusSimulator } from "../../adapters/modbus/simulate.js";
import { parseConfig } from "../../src/config/load.js";
import { BUILTIN_ADAPTERS } from "../../src/core/builtin-adapters.js";
import type { DeviceSpec } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import { adapterConformance } from "../../src/sdk/conformance.js";
import { until } from "../helpers/until.js";
import { type ModbusPeer, startInProcessModbus } from "../peers/pymodbus.js";

const registry = () => {
  const r = new AdapterRegistry(BUILTIN_ADAPTERS.filter((d) => d.type !== "modbus"));
  r.add(modbusAdapter, "test");
  return r;
};
const dir = join(import.meta.dirname, "../../adapters/modbus");

describe("example configs", () => {
  it.each(["example.yaml", "demo.yaml"])("%s is a valid gateway config", (file) => {
    const r = registry();
    const result = parseConfig(readFileSync(join(dir, file), "utf8"), {
      file: join(dir, file),
      lookup: (t) => r.get(t),
    });
    expect(result.ok ? [] : result.errors).toEqual([]);
    // and create() accepts every point (addresses resolve)
    if (result.ok) {
      for (const d of result.config.devices as unknown as DeviceSpec[]) {
        expect(
          () =>
            new Gateway({
              id: "t",
              dataDir: tmpdir(),
              devices: [d],
              registry: r,
              log: pino({ level: "silent" }),
            }),
        ).not.toThrow();
      }
    }
  });

  it("a point whose address cannot resolve fails create() with every problem listed: the device is faulted", async () => {
    const bad: DeviceSpec = {
      id: "d",
      type: "modbus",
      connection: { host: "127.0.0.1" },
      points: [
        { id: "a", type: "float32", address: "hr:30001" },
        { id: "b", type: "int16", address: 4 },
      ] as never,
    };
    const gw = new Gateway({
      id: "t",
      dataDir: tmpdir(),
      devices: [bad],
      registry: registry(),
      log: pino({ level: "silent" }),
    });
    gw.start();
    try {
      expect(gw.device("d")).toMatchObject({ state: "faulted" });
      expect(gw.device("d")?.stateReason).toMatch(
        /point a: 'hr:30001' is ambiguous[\s\S]*point b: a numeric address needs a table/,
      );
    } finally {
      await gw.stop();
    }
  });
});

describe("conformance against modbus-serial's ServerTCP", () => {
  let peer: ModbusPeer;
  beforeAll(async () => {
    peer = await startInProcessModbus({
      1: { hr: [1, 2, 0x4148, 0, 0, 0, 0, 0], co: [false, true], ir: [9] },
    });
  });
  afterAll(async () => peer?.stop());
  const checks = adapterConformance(modbusAdapter, {
    get settings() {
      return { host: "127.0.0.1", port: peer.port, timeoutMs: 500 };
    },
    points: [
      { id: "h0", type: "int16", address: "hr:0", access: "readwrite" },
      { id: "f", type: "float32", address: "hr:2", access: "readwrite" },
      { id: "c1", type: "bool", address: "co:0", access: "readwrite" },
      { id: "ir", type: "uint16", address: "ir:0" },
    ],
    faultyPoints: [{ id: "gone", type: "uint16", address: "ir:100" }],
    writeValue: (p: ModbusPoint) => (p.type === "bool" ? true : p.type === "float32" ? 1.5 : 42),
  });
  for (const c of checks) it(c.name, c.run);
});

function gateway(devices: DeviceSpec[]) {
  const gw = new Gateway({
    id: "gw",
    dataDir: join(tmpdir(), "tb-modbus"),
    devices,
    registry: registry(),
    log: pino({ level: "silent" }),
  });
  const seen: Reading[] = [];
  gw.bus.subscribe({ name: "t", handle: (b) => void seen.push(...b) });
  gw.start();
  return { gw, seen };
}

describe("through the gateway", () => {
  it("publishes readings from the simulator, exposes the plan, and writes", async () => {
    const sim = await startModbusSimulator();
    const { gw, seen } = gateway([
      {
        id: "sim",
        type: "modbus",
        pollIntervalMs: 50,
        connection: { host: "127.0.0.1", port: sim.port, timeoutMs: 500 },
        points: [
          { id: "temperature", type: "float32", address: "hr:0" },
          { id: "counter", type: "uint16", address: "hr:2", publish: "always" },
          { id: "setpoint", type: "int16", address: "hr:3", access: "readwrite" },
          { id: "name", type: "string", address: "hr:10", length: 8 },
          { id: "pressure", type: "float32", address: "ir:0", byteOrder: "CDAB" },
          { id: "pump", type: "bool", address: "co:1", access: "readwrite" },
        ] as never,
      },
    ]);
    try {
      await until("readings of every point", () => new Set(seen.map((r) => r.point)).size === 6);
      const latest = (p: string) => seen.filter((r) => r.point === p).at(-1)!;
      expect(latest("temperature")).toMatchObject({
        protocol: "modbus",
        quality: "good",
        type: "float32",
        address: "hr:0",
      });
      expect(latest("temperature").value as number).toBeGreaterThanOrEqual(15);
      expect(latest("temperature").value as number).toBeLessThanOrEqual(25);
      expect(latest("name").value).toBe("TAGBRIDG");
      expect(latest("pressure").value as number).toBeGreaterThanOrEqual(1);
      await until("counter moves", () => seen.filter((r) => r.point === "counter").length >= 3);
      await gw.write("sim", "setpoint", -123);
      await gw.write("sim", "pump", true);
      await until(
        "written values read back",
        () => latest("setpoint").value === -123 && latest("pump").value === true,
      );
      expect(gw.device("sim")?.state).toBe("connected");
    } finally {
      await gw.stop();
      await sim.stop();
    }
  });

  it("goes disconnected when the server stops, and connected again when it returns", async () => {
    const first = await startInProcessModbus({ 1: { hr: [5, 6] } });
    const port = first.port;
    const { gw, seen } = gateway([
      {
        id: "plc",
        type: "modbus",
        pollIntervalMs: 50,
        reconnect: { minMs: 50, maxMs: 200 },
        connection: { host: "127.0.0.1", port, timeoutMs: 200, retries: 0 },
        points: [{ id: "v", type: "uint16", address: "hr:1" }] as never,
      },
    ]);
    let second: { stop(): Promise<void> } | undefined;
    try {
      await until("first reading", () => seen.some((r) => r.point === "v" && r.value === 6));
      await first.stop();
      await until("disconnected", () => gw.device("plc")?.state === "disconnected");
      await until("a bad/Disconnected reading", () =>
        seen.some((r) => r.quality === "bad" && r.status === "Disconnected"),
      );
      second = await startInProcessModbus({ 1: { hr: [5, 7] } }, port);
      await until(
        "reconnected",
        () => gw.device("plc")?.state === "connected" && seen.at(-1)?.value === 7,
        8_000,
      ).catch((e) => {
        throw new Error(
          `${e.message}: ${JSON.stringify(gw.device("plc"))} ${JSON.stringify(seen.slice(-3))}`,
        );
      });
      expect(gw.device("plc")!.counters.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await gw.stop();
      await second?.stop();
    }
  });
});
