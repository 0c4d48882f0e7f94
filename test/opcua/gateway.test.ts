import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpcuaInstance } from "../../adapters/opcua/adapter.js";
import opcuaAdapter from "../../adapters/opcua/index.js";
import { parseConfig } from "../../src/config/load.js";
import { BUILTIN_ADAPTERS } from "../../src/core/builtin-adapters.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import { adapterConformance } from "../../src/sdk/conformance.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { instance, tempDir, waitFor } from "./helpers.js";

const registry = new AdapterRegistry([...BUILTIN_ADAPTERS, opcuaAdapter as never]);
const variables = [
  { name: "temp", dataType: "Double", value: 20, unit: "°C" },
  { name: "count", dataType: "UInt32", value: 1 },
  { name: "setpoint", dataType: "Double", value: 50, writable: true },
  { name: "broken", dataType: "Double", value: 0, status: "BadSensorFailure" },
] as const;

let peer: OpcuaPeer;
let gateway: Gateway | undefined;
const open: OpcuaInstance[] = [];

beforeAll(async () => {
  peer = await startOpcuaPeer([...variables]);
});
afterAll(async () => {
  await gateway?.stop();
  for (const a of open) await a.stop();
  await peer?.stop();
});

const config = (url: string, dataDir: string) => `
version: 1
gateway: gw-opcua
dataDir: ${dataDir}
devices:
  - id: oven
    type: opcua
    reconnect: { minMs: 200, maxMs: 1000 }
    connection:
      endpointUrl: ${url}
      acceptServerCertificate: true
      publishingIntervalMs: 100
    points:
      - { id: temp, type: float64, address: "ns=1;s=temp", samplingIntervalMs: 50, publish: always }
      - { id: count, type: uint32, address: "ns=1;s=count", mode: poll, pollIntervalMs: 200, publish: always }
`;

describe("through the gateway core", () => {
  it("publishes Readings, survives a server restart without a gateway restart", async () => {
    const dataDir = tempDir("opcua-gw");
    const parsed = parseConfig(config(peer.endpointUrl, dataDir), {
      file: join(dataDir, "gateway.yaml"),
      lookup: (t) => registry.get(t),
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    gateway = new Gateway({
      id: "gw-opcua",
      dataDir,
      devices: parsed.config.devices as never,
      registry,
      log: pino({ level: "silent" }),
    });
    const readings: Reading[] = [];
    gateway.bus.subscribe({ name: "test", handle: (batch) => void readings.push(...batch) });
    // A direct instance on the same server, to see the reported states and metrics.
    const direct = instance(
      { endpointUrl: peer.endpointUrl, acceptServerCertificate: true, publishingIntervalMs: 100 },
      [{ id: "temp", type: "float64", address: "ns=1;s=temp", samplingIntervalMs: 50 }],
      tempDir("opcua-direct"),
    );
    open.push(direct.adapter);
    gateway.start();
    await direct.adapter.start();

    const temp = await waitFor(() => readings.find((r) => r.point === "temp"), 10_000, "temp reading");
    expect(temp).toMatchObject({
      device: "oven",
      protocol: "opcua",
      value: 20,
      type: "float64",
      quality: "good",
      unit: "°C",
      address: "ns=1;s=temp",
    });
    await waitFor(() => readings.find((r) => r.point === "count" && r.value === 1), 10_000, "polled count");
    peer.set("temp", 25);
    await waitFor(() => readings.find((r) => r.point === "temp" && r.value === 25), 10_000, "temp 25");

    await peer.halt();
    await waitFor(() => gateway!.device("oven")?.state === "disconnected", 15_000, "oven disconnected");
    await waitFor(
      () => direct.tc.states.some((s) => s.state === "disconnected"),
      15_000,
      "direct disconnected",
    );
    await waitFor(
      () => readings.find((r) => r.point === "temp" && r.quality === "bad" && r.status === "Disconnected"),
      5_000,
      "bad/Disconnected reading",
    );

    await peer.restart();
    const mark = readings.length;
    await waitFor(
      () => ["connected", "degraded"].includes(gateway!.device("oven")?.state ?? "") || undefined,
      20_000,
      "oven back",
    );
    peer.set("temp", 31);
    peer.set("count", 9);
    await waitFor(
      () => readings.slice(mark).find((r) => r.point === "temp" && r.value === 31),
      20_000,
      "temp after restart",
    );
    await waitFor(
      () => readings.slice(mark).find((r) => r.point === "count" && r.value === 9),
      20_000,
      "count after restart",
    );
    await waitFor(() => direct.tc.emitted.find((s) => s.value === 31), 20_000, "direct temp after restart");
    // One outage; while it lasts the reason is updated only when it changes (lost, refused, …).
    const states = direct.tc.states.map((s) => s.state);
    expect(states.filter((s, i) => s !== states[i - 1])).toEqual(["disconnected", "connected"]);
    const reasons = direct.tc.states.map((s) => s.reason);
    expect(reasons.every((r, i) => i === 0 || r !== reasons[i - 1])).toBe(true);
    expect(direct.tc.metrics.counters.get("opcua_reconnects")).toBe(1);
  }, 60_000);
});

describe("conformance kit against a real server", () => {
  const settings = { endpointUrl: "", acceptServerCertificate: true, publishingIntervalMs: 100 };
  const checks = adapterConformance(opcuaAdapter, {
    get settings() {
      return { ...settings, endpointUrl: peer.endpointUrl };
    },
    points: [
      { id: "temp", type: "float64", address: "ns=1;s=temp", mode: "poll" },
      { id: "setpoint", type: "float64", address: "ns=1;s=setpoint", mode: "poll", access: "readwrite" },
      { id: "count", type: "uint32", address: "ns=1;s=count" },
    ],
    faultyPoints: [
      { id: "broken", type: "float64", address: "ns=1;s=broken", mode: "poll" },
      { id: "missing", type: "float64", address: "ns=1;s=missing", mode: "poll" },
    ],
    writeValue: (p) => (p.id === "setpoint" ? 77.5 : 1),
    timeoutMs: 10_000,
  });
  for (const c of checks) it(c.name, c.run, 30_000);
});

describe("example configs", () => {
  for (const file of ["example.yaml", "demo.yaml"]) {
    it(`adapters/opcua/${file} is a valid gateway config`, () => {
      const path = join(import.meta.dirname, "../../adapters/opcua", file);
      const result = parseConfig(readFileSync(path, "utf8"), {
        file: path,
        lookup: (t) => registry.get(t),
        env: {},
      });
      expect(result.ok ? [] : result.errors).toEqual([]);
      if (result.ok) expect(result.config.devices.some((d) => d.type === "opcua")).toBe(true);
    });
  }
});
