import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqttAdapter from "../../adapters/mqtt/index.js";
import { startMqttSimulator } from "../../adapters/mqtt/simulate.js";
import { parseConfig } from "../../src/config/load.js";
import { BUILTIN_ADAPTERS } from "../../src/core/builtin-adapters.js";
import type { DeviceSpec } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import type { AdapterDefinition } from "../../src/sdk/adapter.js";
import { adapterConformance } from "../../src/sdk/conformance.js";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { mosquittoPub, until } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");
const registry = () =>
  new AdapterRegistry([...BUILTIN_ADAPTERS, mqttAdapter as unknown as AdapterDefinition]);
const parse = (file: string, replace: [string, string][] = []) => {
  let text = readFileSync(join(ROOT, file), "utf8");
  for (const [a, b] of replace) text = text.replaceAll(a, b);
  const r = registry();
  return parseConfig(text, { file: join(ROOT, file), lookup: (t) => r.get(t), env: {} });
};

describe("config files", () => {
  it.each(["adapters/mqtt/example.yaml", "adapters/mqtt/demo.yaml"])("%s is valid", (file) => {
    const result = parse(file);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it("rejects an unknown field and a bad URL, with paths", () => {
    const result = parse("adapters/mqtt/demo.yaml", [
      ["url: mqtt://127.0.0.1:1884\n      protocolVersion", "url: http://x\n      protocolVersion"],
      ["format: raw", "format: raw\n        bogus: 1"],
    ]);
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.errors.map((e) => e.path).join(" ");
    expect(paths).toMatch(/connection\.url/);
    expect(paths).toMatch(/bogus/);
  });
});

describe("end to end: the MQTT simulator (aedes) through the core", () => {
  let sim: Awaited<ReturnType<typeof startMqttSimulator>>;
  let gateway: Gateway;
  const readings: Reading[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "tb-mqtt-gw-"));
  beforeAll(async () => {
    sim = await startMqttSimulator({ intervalMs: 100 });
    const result = parse("adapters/mqtt/demo.yaml", [["127.0.0.1:1884", `127.0.0.1:${sim.port}`]]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    gateway = new Gateway({
      id: "mqtt-e2e",
      dataDir,
      devices: result.config.devices as unknown as DeviceSpec[],
      registry: registry(),
      log: pino({ level: "silent" }),
    });
    gateway.bus.subscribe({ name: "test", handle: (batch) => void readings.push(...batch) });
    gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const find = (device: string, point: string) =>
    readings.findLast((r) => r.device === device && r.point === point);

  it("JSON points and a wildcard family arrive as Readings", async () => {
    await until(
      () =>
        find("line1", "oven_temperature") && readings.filter((r) => r.point === "press_state").length >= 2,
      "JSON readings",
      8_000,
    );
    expect(find("line1", "press1_temperature")).toMatchObject({
      protocol: "mqtt",
      type: "float64",
      quality: "good",
      unit: "°C",
      address: "demo/line1/press-1/telemetry",
    });
    const addresses = new Set(readings.filter((r) => r.point === "press_state").map((r) => r.address));
    expect(addresses).toEqual(new Set(["demo/line1/press-1/telemetry", "demo/line1/press-2/telemetry"]));
  });

  it("the Sparkplug edge node's device arrives after a rebirth, typed and timestamped", async () => {
    // The simulator was born before the gateway subscribed: its DDATA triggers a Rebirth NCMD.
    await until(() => find("filler", "line_speed") && find("filler", "bottles"), "Sparkplug readings", 8_000);
    expect(find("filler", "bottles")).toMatchObject({ type: "uint64", quality: "good" });
    expect(typeof find("filler", "bottles")!.value).toBe("number");
    expect(find("filler", "running")).toMatchObject({ type: "bool" });
  });

  it("a write goes out as DCMD and comes back in the data", async () => {
    await gateway.write("filler", "speed_setpoint", 150);
    await until(() => find("filler", "speed_setpoint")?.value === 150, "setpoint echoed", 5_000);
  });

  it("an NDEATH turns the Sparkplug points bad/Disconnected", async () => {
    // As the broker would publish the edge node's will (an NDEATH) when it drops off.
    const probe = await mqtt.connectAsync(sim.url, { reconnectPeriod: 0 });
    await probe.publishAsync("spBv1.0/DemoGroup/NDEATH/edge-1", Buffer.alloc(0));
    await probe.endAsync();
    await until(() => find("filler", "running")?.status === "Disconnected", "death", 5_000);
    expect(find("filler", "running")).toMatchObject({ quality: "bad", value: null });
  });
});

describe("conformance kit (mosquitto)", () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => broker?.stop());
  // Registered lazily: the broker URL is only known in beforeAll.
  const names = adapterConformance(mqttAdapter, { settings: { url: "mqtt://127.0.0.1:1" }, points: [] }).map(
    (c) => c.name,
  );
  for (const name of names) {
    it(name, async () => {
      const checks = adapterConformance(mqttAdapter, {
        settings: { url: broker.url },
        points: [{ id: "v", type: "float64", topic: "conf/v", format: "raw" }],
      });
      await checks.find((c) => c.name === name)!.run();
    });
  }
});

describe("through the core with mosquitto: JSON values of the wrong type", () => {
  it("a JSON string for a float64 point becomes bad/TypeMismatch; the next good value recovers", async () => {
    const broker = await startBroker();
    const dataDir = mkdtempSync(join(tmpdir(), "tb-mqtt-type-"));
    const device = {
      id: "dev",
      type: "mqtt",
      connection: { url: broker.url },
      points: [{ id: "temp", type: "float64", topic: "type/t", path: "$.v" }],
    };
    const gateway = new Gateway({
      id: "gw",
      dataDir,
      devices: [device as never],
      registry: registry(),
      log: pino({ level: "silent" }),
    });
    const got: Reading[] = [];
    gateway.bus.subscribe({ name: "t", handle: (b) => void got.push(...b) });
    try {
      gateway.start();
      await until(() => gateway.devices()[0]?.state === "connected", "connected");
      await mosquittoPub(broker.url, "type/t", '{"v":"hot"}');
      await until(() => got.at(-1)?.status === "TypeMismatch", "TypeMismatch");
      expect(got.at(-1)).toMatchObject({ quality: "bad", value: null, address: "type/t" });
      await mosquittoPub(broker.url, "type/t", '{"v":20.5}');
      await until(() => got.at(-1)?.value === 20.5, "recovered");
    } finally {
      await gateway.stop();
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
