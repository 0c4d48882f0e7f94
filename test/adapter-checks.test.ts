/**
 * Adapter-specific checks (`AdapterDefinition.check`) run at config load: their problems come with
 * every other error, with paths, so nothing starts on a config the adapter could not run.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { AdapterRegistry } from "../src/core/registry.js";

const registry = new AdapterRegistry();
const parse = (text: string) =>
  parseConfig(text, { file: "/tmp/x/gateway.yaml", lookup: (t) => registry.get(t) });

describe("adapter checks at load", () => {
  it("reports Modbus address problems and MQTT topic problems with their paths", () => {
    const result = parse(`version: 1
gateway: g
devices:
  - id: plc
    type: modbus
    connection: { host: 127.0.0.1, port: 502 }
    points:
      - { id: a, type: float32, address: "hr:40001:float32:ABCD" }
      - { id: b, type: string, address: "hr:10" }
      - { id: d, type: uint16, address: "zz:1" }
  - id: broker
    type: mqtt
    connection: { url: "mqtt://127.0.0.1:1883" }
    points:
      - { id: x, type: float64 }
      - { id: y, type: float64, topic: "a/#/b" }
      - { id: z, type: float64, topic: "a/{line}/b" }
`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual([
      "devices[0].points[1].address",
      "devices[0].points[2].address",
      "devices[1].points[0].topic",
      "devices[1].points[1].topic",
    ]);
    expect(result.errors[0]).toMatchObject({ message: "a string point needs length (characters)", line: 9 });
  });

  // Found by the config property test (issue 15.1): both passed validate and never started.
  it("refuses an MQTT password without a user name, and Sparkplug ids with topic characters", () => {
    const result = parse(`version: 1
gateway: g
devices:
  - id: a
    type: mqtt
    connection: { url: "mqtt://127.0.0.1:1883", password: pw }
    points: [{ id: x, type: float64, topic: a/b }]
  - id: b
    type: mqtt
    connection: { url: "mqtt://127.0.0.1:1883", sparkplug: { groupId: "G/1", edgeNodeId: "E+", deviceId: "D#" } }
    points: [{ id: x, type: float64 }]
`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      "devices[0].connection.password: needs connection.username as well",
      expect.stringMatching(/^devices\[1\]\.connection\.sparkplug\.groupId: must match/),
      expect.stringMatching(/^devices\[1\]\.connection\.sparkplug\.edgeNodeId: must match/),
      expect.stringMatching(/^devices\[1\]\.connection\.sparkplug\.deviceId: must match/),
    ]);
  });

  it("does not run on a device the schema already refused (the check may rely on the schema)", () => {
    const result = parse(`version: 1
gateway: g
devices:
  - id: plc
    type: modbus
    connection: { host: 127.0.0.1, port: 502, bogus: 1 }
    points:
      - { id: b, type: string, address: "hr:10" }
`);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(["devices[0].connection.bogus"]);
  });
});
