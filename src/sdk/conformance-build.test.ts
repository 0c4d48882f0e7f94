import { readFileSync } from "node:fs";
import { join } from "node:path";
import Type from "typebox";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUILTIN_ADAPTERS } from "../core/builtin-adapters.js";
import { type AdapterDefinition, defineAdapter } from "./adapter.js";
import { adapterConformance } from "./conformance.js";
import { buildCheck, objectVariants, type SampleDevice } from "./conformance-build.js";

const ConnectionSchema = Type.Object(
  {
    transport: Type.Optional(Type.Enum(["tcp", "serial"], { description: "How the device is reached." })),
    host: Type.Optional(Type.String({ minLength: 1, description: "Host (tcp)." })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Port (tcp)." })),
  },
  { additionalProperties: false },
);
const PointSchema = Type.Object(
  { address: Type.String({ description: "Register name." }) },
  { additionalProperties: false },
);

type Settings = { transport?: "tcp" | "serial"; host?: string; port?: number };

/** An adapter whose create() needs a host on tcp; `checks` says whether check() says so first. */
function transportAdapter(
  checks: "host" | "nothing" | "throws",
  overrides: Partial<AdapterDefinition<typeof ConnectionSchema, typeof PointSchema>> = {},
) {
  return defineAdapter({
    type: "fake",
    description: "A device reached over tcp (needs a host) or a serial line.",
    sdk: "^1.0.0",
    connectionSchema: ConnectionSchema,
    pointSchema: PointSchema,
    capabilities: [],
    check({ connection }) {
      if (checks === "throws" && connection.transport === "serial") throw new TypeError("boom");
      if (checks === "host" && (connection.transport ?? "tcp") === "tcp" && !connection.host)
        return [{ path: ["connection", "host"], message: "is required with transport tcp" }];
      return [];
    },
    create(ctx) {
      const s = ctx.settings as Settings;
      if ((s.transport ?? "tcp") === "tcp" && !s.host) throw new Error("transport tcp needs connection.host");
      return { start: async () => {}, stop: async () => {} };
    },
    ...overrides,
  });
}

const sample: SampleDevice = {
  settings: { host: "127.0.0.1", port: 1502 },
  points: [{ id: "a", type: "int16", address: "r1" }],
};

describe("buildCheck", () => {
  it("passes an adapter whose check() refuses what create() would", () => {
    const report = buildCheck(transportAdapter("host"), [sample]);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBeGreaterThan(5);
    expect(report.refused).toBeGreaterThan(0); // host left out, at least
  });

  it("names the variant whose create() throws after check() accepted it", () => {
    const report = buildCheck(transportAdapter("nothing"), [sample]);
    expect(report.problems).toEqual([
      "connection.host left out: check() accepted it but create() threw: transport tcp needs connection.host",
    ]);
  });

  it("fails a check() that throws on a schema-valid device", () => {
    const report = buildCheck(transportAdapter("throws"), [sample]);
    expect(report.problems).toContain(
      'connection.transport = "serial": check() threw on a schema-valid device: boom',
    );
  });

  it("fails problems without a path", () => {
    const def = transportAdapter("host", {
      check: () => [{ message: "no path" } as never],
    });
    expect(buildCheck(def, [sample]).problems[0]).toMatch(
      /as given: check\(\) returned a problem without a path/,
    );
  });

  it("skips what the schemas refuse, and derives variants from further samples", () => {
    const invalid: SampleDevice = { settings: { port: "x" }, points: [] };
    const serial: SampleDevice = { settings: { transport: "serial" }, points: [] };
    const report = buildCheck(transportAdapter("nothing"), [sample, invalid, serial]);
    // the serial sample's own variant transport = "tcp" has no host either
    expect(report.problems).toContain(
      'sample 2: connection.transport = "tcp": check() accepted it but create() threw: transport tcp needs connection.host',
    );
    expect(report.problems.some((p) => p.startsWith("sample 1: as given"))).toBe(false);
  });
});

describe("objectVariants", () => {
  it("changes one field at a time: enum values, bounds, left out", () => {
    const changes = objectVariants(ConnectionSchema, { host: "h", port: 502 }, "connection").map(
      (v) => v.change,
    );
    expect(changes).toEqual([
      'connection.transport = "tcp"',
      'connection.transport = "serial"',
      "connection.host left out",
      'connection.host = "x"',
      "connection.port left out",
      "connection.port = 1",
      "connection.port = 65535",
    ]);
  });
});

describe("the kit's build check", () => {
  it("is in adapterConformance and fails an adapter whose check() misses what create() refuses", async () => {
    const checks = adapterConformance(transportAdapter("nothing"), {
      settings: sample.settings,
      points: sample.points,
    });
    const build = checks.find((c) => c.name.startsWith("build:"));
    await expect(build?.run()).rejects.toThrow(
      /connection.host left out: check\(\) accepted it but create\(\) threw/,
    );
    const good = adapterConformance(transportAdapter("host"), {
      settings: sample.settings,
      points: sample.points,
    });
    await expect(good.find((c) => c.name.startsWith("build:"))?.run()).resolves.toBeUndefined();
  });
});

/** The devices of an adapter's example.yaml, as samples (nothing is started: hosts there are never reached). */
function examples(type: string): SampleDevice[] {
  const file = join(import.meta.dirname, "../../adapters", type, "example.yaml");
  const config = parse(readFileSync(file, "utf8")) as {
    devices: { connection: unknown; points: unknown[] }[];
  };
  return config.devices.map((d) => ({ settings: d.connection, points: d.points }));
}

describe("built-in adapters pass the build check", () => {
  it.each(BUILTIN_ADAPTERS.map((d) => [d.type, d] as const))("%s", (type, definition) => {
    const report = buildCheck(definition, examples(type));
    expect(report.problems).toEqual([]);
    expect(report.checked).toBeGreaterThan(20);
  });
});
