import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { OpcuaInstance } from "../../adapters/opcua/adapter.js";
import { type OpcuaSimulator, startOpcuaSimulator } from "../../adapters/opcua/simulate.js";
import { instance, tempDir } from "./helpers.js";

let sim: OpcuaSimulator;
let adapter: OpcuaInstance | undefined;

beforeAll(async () => {
  sim = await startOpcuaSimulator({ port: 0, pkiDir: tempDir("opcua-sim-server") });
});
afterAll(async () => {
  await adapter?.stop();
  await sim?.stop();
});

describe("startOpcuaSimulator", () => {
  it("serves every point of demo.yaml, good and of the declared type, with a browsable tree", async () => {
    const demo = parse(readFileSync(join(import.meta.dirname, "../../adapters/opcua/demo.yaml"), "utf8"));
    const device = demo.devices[0];
    const points = device.points.map((p: Record<string, unknown>) => ({ ...p, mode: "poll" }));
    const made = instance(
      { ...device.connection, endpointUrl: sim.endpointUrl },
      points,
      tempDir("opcua-sim"),
    );
    adapter = made.adapter;
    await adapter.start();
    const samples = await adapter.read(made.tc.ctx.points);
    expect(samples.filter((s) => s.quality !== "good")).toEqual([]);
    expect(samples.find((s) => s.point === "oven_temperature")).toMatchObject({ unit: "°C" });
    expect(Array.isArray(samples.find((s) => s.point === "vibration")?.value)).toBe(true);
    const root = await adapter.browse();
    expect(root.map((n) => n.name)).toContain("Plant");
    const line = await adapter.browse("ns=1;s=Plant/Line1");
    expect(line.map((n) => n.name).sort()).toEqual(["Oven", "Packer", "Recipe"]);
  });
});
