/**
 * `validate` refuses unit ids a serial line cannot use (0: broadcast, never answered; 248–255:
 * reserved) on rtu and rtuOverTcp, with their paths; Modbus TCP keeps the whole 0–255 range.
 * Checked through config parsing and through the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import { cli } from "../helpers/cli.js";

const registry = new AdapterRegistry();
const parse = (text: string) =>
  parseConfig(text, { file: "/tmp/x/gateway.yaml", lookup: (t) => registry.get(t) });

const config = (connection: string, points: string) => `version: 1
gateway: g
devices:
  - id: plc
    type: modbus
    connection: ${connection}
    points:
${points}
`;

const paths = (text: string) => {
  const r = parse(text);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};

describe("unit ids on a serial line", () => {
  it.each([
    "{ transport: rtu, serialPort: /dev/ttyUSB0, unitId: 0 }",
    "{ transport: rtuOverTcp, host: 10.0.0.5, unitId: 248 }",
    "{ transport: rtu, serialPort: /dev/ttyUSB0, unitId: 255 }",
  ])("the connection's unit id is refused with its path: %s", (connection) => {
    const errors = paths(config(connection, "      - { id: a, type: uint16, address: hr:1 }"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^devices\[0\]\.connection\.unitId: unit id (0|248|255) cannot be used on a serial line \(rtu, rtuOverTcp\): (0 is the broadcast address, which no unit answers|\d+ is reserved); use 1–247$/,
    );
  });

  it("a point's own unit id is refused with its path; 1 and 247 are fine", () => {
    const errors = paths(
      config(
        "{ transport: rtuOverTcp, host: 10.0.0.5 }",
        [
          "      - { id: a, type: uint16, address: hr:1, unitId: 1 }",
          "      - { id: b, type: uint16, address: hr:1, unitId: 0 }",
          "      - { id: c, type: uint16, address: hr:1, unitId: 247 }",
          "      - { id: d, type: uint16, address: hr:1, unitId: 250 }",
        ].join("\n"),
      ),
    );
    expect(errors).toEqual([
      "devices[0].points[1].unitId: unit id 0 cannot be used on a serial line (rtu, rtuOverTcp): 0 is the broadcast address, which no unit answers; use 1–247",
      "devices[0].points[3].unitId: unit id 250 cannot be used on a serial line (rtu, rtuOverTcp): 250 is reserved; use 1–247",
    ]);
  });

  it("Modbus TCP accepts 0 and 255 (gateways commonly answer them)", () => {
    expect(
      paths(
        config(
          "{ host: 10.0.0.5, unitId: 255 }",
          "      - { id: a, type: uint16, address: hr:1, unitId: 0 }",
        ),
      ),
    ).toEqual([]);
  });

  it("a transport's required field is refused with its path (create() could not build the client)", () => {
    expect(paths(config("{ transport: rtu }", "      - { id: a, type: uint16, address: hr:1 }"))).toEqual([
      "devices[0].connection.serialPort: transport rtu needs connection.serialPort",
    ]);
    expect(
      paths(config("{ transport: rtuOverTcp }", "      - { id: a, type: uint16, address: hr:1 }")),
    ).toEqual(["devices[0].connection.host: transport rtuOverTcp needs connection.host"]);
    expect(paths(config("{ port: 502 }", "      - { id: a, type: uint16, address: hr:1 }"))).toEqual([
      "devices[0].connection.host: transport tcp needs connection.host",
    ]);
  });

  const dir = mkdtempSync(join(tmpdir(), "tb-units-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("tagbridge validate exits 1 naming the path", async () => {
    const file = join(dir, "gateway.yaml");
    writeFileSync(
      file,
      config(
        "{ transport: rtu, serialPort: /dev/ttyUSB0 }",
        "      - { id: a, type: uint16, address: hr:1, unitId: 0 }",
      ),
    );
    const p = cli(["validate", file]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(
      /devices\[0\]\.points\[0\]\.unitId: unit id 0 cannot be used on a serial line/,
    );
  });
});
