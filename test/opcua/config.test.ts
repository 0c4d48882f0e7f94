/** Node ids are parsed at config load: `validate` refuses malformed ones with their path. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import opcuaAdapter from "../../adapters/opcua/index.js";
import { parseConfig } from "../../src/config/load.js";
import { BUILTIN_ADAPTERS } from "../../src/core/builtin-adapters.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import { cli } from "../helpers/cli.js";
import { tempDir } from "./helpers.js";

const registry = new AdapterRegistry([...BUILTIN_ADAPTERS, opcuaAdapter as never]);

const BAD = [
  "ns=1;x=Demo.Sine",
  "ns=abc;s=Demo.Sine",
  "Demo.Sine",
  "ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF6",
  "ns=1;i=12ab",
];
const GOOD = ["ns=1;s=Demo.Sine", "nsu=urn:tagbridge:test;s=temp", "i=2258"];

const config = (addresses: readonly string[]) => `version: 1
gateway: gw
devices:
  - id: plc
    type: opcua
    connection: { endpointUrl: "opc.tcp://127.0.0.1:4840" }
    points:
${addresses.map((a, i) => `      - { id: p${i}, type: float64, address: ${JSON.stringify(a)} }`).join("\n")}
`;

describe("node ids at config load", () => {
  it("refuses each malformed node id at its path, and accepts the well-formed ones", () => {
    const result = parseConfig(config([...GOOD, ...BAD]), {
      file: "gateway.yaml",
      lookup: (t) => registry.get(t),
    });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((e) => e.path)).toEqual(
      BAD.map((_, i) => `devices[0].points[${GOOD.length + i}].address`),
    );
    for (const e of errors) expect(e.message).toMatch(/^not an OPC UA node id: /);
    expect(errors[4]?.message).toMatch(/'12ab' is not a number/);
    expect(parseConfig(config(GOOD), { file: "gateway.yaml", lookup: (t) => registry.get(t) }).ok).toBe(true);
  });

  it("tagbridge validate prints the path and line of a malformed node id and exits 1", async () => {
    const file = join(tempDir("opcua-validate"), "gateway.yaml");
    writeFileSync(file, config(["ns=1;s=ok", "ns=1;i=12ab"]));
    const p = cli(["validate", file]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(
      /gateway\.yaml:9:\d+ devices\[0\]\.points\[1\]\.address: not an OPC UA node id: numeric identifier '12ab' is not a number/,
    );
    expect(p.output()).toMatch(/1 error\(s\)/);
  }, 30_000);
});
